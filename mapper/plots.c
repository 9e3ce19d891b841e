/* plots.c — one SVG per population of the response-matching curves
 * (interface: mapper/mapper.h): x = the neuron's pre-activation in counts
 * z' = s P + b', y = window count; the constrained ANN's response in blue,
 * the matched spiking neuron's in red, residual in the title.  Written as
 * SVG text by hand into OUTDIR/plots/<population>.svg; every point also
 * carries its values exactly (data-z, data-y: 9 digits, a float's round
 * trip), for readers other than the eye. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ir/error.h"
#include "mapper.h"

#define PW 640
#define PH 420
#define MARGIN 50

static void safe_name(const char *in, char *out, size_t cap)
{
    size_t k = 0;
    for (const char *s = in; *s && k + 1 < cap; s++)
        out[k++] = (char)((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ? *s
                          : *s == '-' ? 'n'
                                      : '_');
    out[k] = 0;
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++)
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else
            fputc(*s, f);
}

static void range(const float *v, int n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) {
            *lo = fmin(*lo, v[i]);
            *hi = fmax(*hi, v[i]);
        }
    if (!(*hi > *lo)) {
        *lo = (isfinite(*lo) ? *lo : 0) - 1;
        *hi = *lo + 2;
    }
}

static int write_one(const char *path, const snnc_match_curve *c)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    double x0, x1, y0, y1, a0, a1;
    range(c->z, c->n, &x0, &x1);
    range(c->ann, c->n, &y0, &y1);
    range(c->snn, c->n, &a0, &a1);
    y0 = fmin(y0, a0);
    y1 = fmax(y1, a1);
    double sx = (PW - 2.0 * MARGIN) / (x1 - x0), sy = (PH - 2.0 * MARGIN) / (y1 - y0);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
               "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n<text x=\"%d\" y=\"20\">",
            PW, PH, MARGIN);
    xml_text(f, c->name);
    fprintf(f, ": ANN (blue) vs spiking (red), residual %.4g counts^2</text>\n", c->residual);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"black\"/>\n", MARGIN,
            MARGIN, PW - 2 * MARGIN, PH - 2 * MARGIN);
    fprintf(f, "<text x=\"%d\" y=\"%d\">%.3g</text><text x=\"%d\" y=\"%d\">%.3g</text>\n", MARGIN, PH - MARGIN + 16,
            x0, PW - MARGIN - 30, PH - MARGIN + 16, x1);
    fprintf(f, "<text x=\"5\" y=\"%d\">%.3g</text><text x=\"5\" y=\"%d\">%.3g</text>\n", PH - MARGIN, y0,
            MARGIN + 10, y1);
    fprintf(f, "<text x=\"%d\" y=\"%d\">pre-activation z' (counts)</text>\n", PW / 2 - 60, PH - 12);
    for (int pass = 0; pass < 2; pass++) {
        const float *y = pass ? c->snn : c->ann;
        fprintf(f, "<g fill=\"%s\" fill-opacity=\"0.5\">\n", pass ? "red" : "blue");
        for (int i = 0; i < c->n; i++)
            if (isfinite(c->z[i]) && isfinite(y[i]))
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" data-z=\"%.9g\" data-y=\"%.9g\"/>\n",
                        MARGIN + (c->z[i] - x0) * sx, PH - MARGIN - (y[i] - y0) * sy, pass ? "1.5" : "2.5",
                        c->z[i], y[i]);
        fputs("</g>\n", f);
    }
    fputs("</svg>\n", f);
    return fclose(f) ? -1 : 0;
}

int snnc_plots_write(const char *outdir, const snnc_match_curve *c, int n, snnc_err *err)
{
    char dir[4096], path[4400], name[160];
    snprintf(dir, sizeof dir, "%s/plots", outdir);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return snnc_fail(err, SNNC_EIO, "%s: cannot create directory", dir);
    for (int i = 0; i < n; i++) {
        safe_name(c[i].name, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s.svg", dir, name);
        if (write_one(path, &c[i]))
            return snnc_fail(err, SNNC_EIO, "%s: cannot write", path);
    }
    return SNNC_OK;
}
