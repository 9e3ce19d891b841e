/* error.c — filling the snnc_err context (interface: error.h). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int snnc_fail(snnc_err *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    char text[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (err->code != SNNC_OK && err->msg[0]) {
        char old[sizeof err->msg];
        memcpy(old, err->msg, sizeof old);
        snprintf(err->msg, sizeof err->msg, "%s: %s", text, old);
    } else {
        memcpy(err->msg, text, sizeof text);
    }
    err->code = code;
    return code;
}

void snnc_err_prefix(snnc_err *err, const char *fmt, ...)
{
    if (!err)
        return;
    char text[sizeof err->msg], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", text, old);
}

void snnc_err_clear(snnc_err *err)
{
    if (err) {
        err->code = SNNC_OK;
        err->msg[0] = '\0';
    }
}
