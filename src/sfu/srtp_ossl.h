/*
 * srtp_ossl — AES-128-GCM for libsrtp2 on OpenSSL instead of NSS.
 *
 * Debian builds libsrtp2 on NSS, and NSS's softoken takes a lock of its
 * internal slot for every PK11_Encrypt: SRTP on two threads is slower in
 * all than on one (docs/sfu.md, "Threading", measures it). libsrtp2 lets
 * a program replace the implementation behind a cipher id
 * (srtp_replace_cipher_type()); this module registers an AES-GCM of
 * OpenSSL's EVP for SRTP_AES_GCM_128, one EVP context per SRTP stream and
 * no shared state after registration. libsrtp2 keeps doing all of SRTP
 * (key derivation, IVs, replay, ROC); only the block cipher changes.
 * libsrtp2 runs its self test (NIST GCM test case 4) on the new type
 * before it takes it. No I/O.
 */
#ifndef TINCAN_SFU_SRTP_OSSL_H
#define TINCAN_SFU_SRTP_OSSL_H

/* Puts the OpenSSL AES-128-GCM in libsrtp2's place; call once after
 * srtp_init(). 0, or -1 (libsrtp2's own stays). */
int sfu_srtp_ossl_register(void);

#endif
