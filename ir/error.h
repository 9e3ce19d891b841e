/* error.h — the one error context every fallible snnc function fills.
 *
 * A function that can fail returns a status (SNNC_OK or an snnc_status code)
 * and, on failure, writes one message into the caller's snnc_err naming the
 * file, node or field and the reason.  The library never prints or exits;
 * the CLI turns the status into an exit code (see cli/). */
#ifndef SNNC_ERROR_H
#define SNNC_ERROR_H

#include "snnc.h"

/* Record a failure; returns `code` so callers can `return snnc_fail(...)`.
 * If the context already holds a message, the new text is prefixed to it
 * ("outer: inner"), so callers can add where the failure happened. */
int snnc_fail(snnc_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix context (e.g. the file name) to an existing message. */
void snnc_err_prefix(snnc_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void snnc_err_clear(snnc_err *err);

#endif
