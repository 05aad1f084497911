// Firefox ESR for the browser tests: Debian's firefox-esr, driven by
// puppeteer-core over WebDriver BiDi, with fake camera and microphone and
// no permission prompts.
//
// Firefox gathers no host candidates on loopback while camera and
// microphone are not granted for the page's origin ("media.navigator.
// permission.disabled" alone skips the prompt but not that check), so the
// permissions.default.* prefs grant them to every origin. Loopback
// candidates themselves need media.peerconnection.ice.loopback.
import puppeteer from 'puppeteer-core';

export const FIREFOX = process.env.FIREFOX_BIN || '/usr/bin/firefox-esr';

export const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'permissions.default.camera': 1,
  'permissions.default.microphone': 1,
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.peerconnection.ice.no_host': false,
  'media.peerconnection.ice.default_address_only': false,
  'network.proxy.type': 0,
  'app.update.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
};

/**
 * Starts a headless Firefox ESR that accepts the test server's self-signed
 * certificate. Returns puppeteer's Browser (close() it).
 */
export function launchFirefox(extraPrefs = {}) {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    acceptInsecureCerts: true,
    protocolTimeout: 60_000,
    timeout: 60_000,
    extraPrefsFirefox: { ...FIREFOX_PREFS, ...extraPrefs },
  });
}

/**
 * A Firefox page at url, in its own browser context (own storage). Console
 * errors and page errors are collected in page.problems.
 */
export async function firefoxPage(browser, url, name = 'firefox') {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.problems.push(`${name} console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => page.problems.push(`${name} pageerror: ${err}`));
  await page.goto(url);
  return page;
}

/** The Firefox page through the pre-join screen to the call screen (puppeteer's API). */
export async function firefoxJoin(page) {
  await page.waitForSelector('#status[data-status="connected"]');
  await page.waitForSelector('#view-prejoin:not([hidden]), #view-call:not([hidden])');
  if (await page.$('#view-prejoin:not([hidden])')) {
    await page.waitForSelector('#prejoin-join:enabled');
    await page.click('#prejoin-join');
  }
  await page.waitForSelector('#view-call:not([hidden])');
}
