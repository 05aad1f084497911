// Browser test (d) of the lobby: people pick names, see each other, call,
// and the callee accepts (both decode video) or rejects (the caller is
// told). Also: a taken name, busy people, hang up and cancel.
//
// Run: node --test tests/e2e/   (TINCAN_BIN picks another binary)
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PHONE, assertClean, person, shot, useServerAndBrowser, waitDecoding } from './helpers.mjs';

const STEP = { timeout: 90_000 };

/** Enters the lobby under `name` from the start screen. */
async function enterLobby(page, name) {
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Enter' }).click();
}

const lobbyMsg = (page, re) => page.waitForFunction(
  (src) => new RegExp(src, 'i').test(document.getElementById('lobby-msg').textContent), re.source);

describe('lobby', { timeout: 300_000 }, () => {
  const env = useServerAndBrowser({}, STEP);
  let ada;
  let bob;

  before(async () => {
    ada = await person(env.browser, env.server.url + '/', 'Ada');
    bob = await person(env.browser, env.server.url + '/', 'Bob', PHONE);
  }, STEP);

  test('A and B pick names and see each other', STEP, async () => {
    await enterLobby(ada.page, 'Ada');
    await ada.page.waitForSelector('#view-lobby:not([hidden])');
    assert.equal(await ada.page.locator('#lobby-you').textContent(), 'Ada');
    assert.ok(await ada.page.locator('#lobby-empty').isVisible(), 'alone: the list says nobody is here');
    await shot(ada.page, 'lobby-alone');

    await enterLobby(bob.page, 'Bob');
    await bob.page.waitForSelector('#view-lobby:not([hidden])');
    await ada.page.waitForSelector('#lobby-users li[data-name="Bob"][data-busy="false"]');
    await bob.page.waitForSelector('#lobby-users li[data-name="Ada"]');
    assert.equal(await ada.page.locator('#lobby-users li').count(), 1, 'Ada does not list herself');
    assert.ok(await ada.page.getByRole('button', { name: 'Call Bob' }).isVisible());
    await shot(ada.page, 'lobby-list');
    await shot(bob.page, 'lobby-list-phone');
    const widths = await bob.page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
    assert.ok(widths[0] <= widths[1], `no horizontal scrolling on a phone (${widths})`);
  });

  test('a name that is online already is refused (case-insensitively)', STEP, async () => {
    const cy = await person(env.browser, env.server.url + '/', 'Cy');
    try {
      await enterLobby(cy.page, 'ADA');
      await cy.page.waitForFunction(() => /already online/i.test(document.getElementById('lobby-note').textContent));
      assert.ok(await cy.page.locator('#view-start').isVisible(), 'still on the start screen');
      await shot(cy.page, 'lobby-name-taken');
      await assertClean([cy]);
    } finally {
      await cy.context.close();
    }
  });

  test('(d) A calls B, B hears the ring and accepts: both decode video', STEP, async () => {
    await ada.page.getByRole('button', { name: 'Call Bob' }).click();
    await ada.page.waitForSelector('#outgoing:not([hidden])');
    assert.match(await ada.page.locator('#outgoing').textContent(), /Calling Bob/);

    await bob.page.waitForSelector('#incoming[open]');
    assert.match(await bob.page.locator('#incoming').textContent(), /Ada is calling/);
    // The ring is WebAudio, running (the Enter click unlocked the audio).
    await bob.page.waitForFunction(() => window.tincanDebug.ringing === true);
    await shot(bob.page, 'lobby-incoming-phone');
    await shot(ada.page, 'lobby-calling');

    // Others see both as busy.
    const cy = await person(env.browser, env.server.url + '/', 'Cy');
    await enterLobby(cy.page, 'Cy');
    await cy.page.waitForSelector('#lobby-users li[data-name="Ada"][data-busy="true"]');
    await cy.page.waitForSelector('#lobby-users li[data-name="Bob"][data-busy="true"]');
    assert.equal(await cy.page.getByRole('button', { name: 'Call Bob' }).getAttribute('aria-disabled'), 'true');
    await shot(cy.page, 'lobby-busy');

    await bob.page.getByRole('button', { name: 'Accept' }).click();
    await ada.page.waitForSelector('#view-call:not([hidden])');
    await bob.page.waitForSelector('#view-call:not([hidden])');
    assert.equal(await bob.page.evaluate(() => window.tincanDebug.ringing), false, 'the ring stops');
    await waitDecoding(ada.page, 1);
    await waitDecoding(bob.page, 1);
    assert.equal(await ada.page.locator('#call-title').textContent(), 'Call with Bob');
    assert.equal(await bob.page.locator('#call-title').textContent(), 'Call with Ada');
    assert.equal(await ada.page.locator('.tile .tile-name').textContent(), 'Bob');
    await ada.page.waitForSelector('.tile[data-path="direct"]');
    await shot(ada.page, 'lobby-call');
    await bob.page.waitForSelector('.tile[data-path="direct"]');
    await shot(bob.page, 'lobby-call-phone');

    // Chat carries names in a lobby call.
    await bob.page.getByRole('button', { name: 'Chat' }).click();
    await bob.page.getByLabel('Message').fill('hi Ada');
    await bob.page.getByLabel('Message').press('Enter');
    await ada.page.locator('#btn-chat').click();
    await ada.page.waitForSelector('#chat-log .msg >> text=hi Ada');
    assert.equal(await ada.page.locator('#chat-log .msg-from').first().textContent(), 'Bob');
    await shot(bob.page, 'lobby-chat-phone');

    // B hangs up: both are back in the lobby, A is told.
    await bob.page.getByRole('button', { name: 'Hang up' }).click();
    await bob.page.waitForSelector('#view-lobby:not([hidden])');
    await ada.page.waitForSelector('#view-lobby:not([hidden])');
    await lobbyMsg(ada.page, /Bob hung up/);
    await cy.page.waitForSelector('#lobby-users li[data-name="Bob"][data-busy="false"]');
    await assertClean([cy]);
    await cy.context.close();
  });

  test('(d) A calls B, B rejects: A is told', STEP, async () => {
    await ada.page.getByRole('button', { name: 'Call Bob' }).click();
    await bob.page.waitForSelector('#incoming[open]');
    await bob.page.getByRole('button', { name: 'Reject' }).click();
    await lobbyMsg(ada.page, /Bob declined the call/);
    assert.ok(await ada.page.locator('#outgoing').isHidden(), '"Calling…" is gone');
    assert.ok(await bob.page.locator('#incoming').isHidden(), 'the dialog is closed');
    assert.equal(await bob.page.evaluate(() => window.tincanDebug.ringing), false);
    assert.equal(await ada.page.locator('#grid .tile').count(), 0);
    await shot(ada.page, 'lobby-rejected');
  });

  test('A calls B and cancels: B\'s ring stops and B is told', STEP, async () => {
    await ada.page.getByRole('button', { name: 'Call Bob' }).click();
    await bob.page.waitForSelector('#incoming[open]');
    await ada.page.waitForSelector('#outgoing:not([hidden])');
    await ada.page.getByRole('button', { name: 'Cancel' }).click();
    await bob.page.waitForSelector('#incoming', { state: 'hidden' });
    await lobbyMsg(bob.page, /Ada cancelled the call/);
    assert.equal(await bob.page.evaluate(() => window.tincanDebug.ringing), false);
    await assertClean([ada, bob]);
  });
});
