/* The version tincan reports in --version, /health and the welcome message. */
#ifndef TINCAN_VERSION_H
#define TINCAN_VERSION_H
#define TINCAN_VERSION "0.1.0"
#endif
