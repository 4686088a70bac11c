/* json.c: JSON strings and numbers for --format json (see json.h). */
#include "analysis/json.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

void json_string(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    putc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                putc(*p, out);
        }
    }
    putc('"', out);
}

void json_number(FILE *out, double x)
{
    if (!isfinite(x)) {
        fputs("null", out);
        return;
    }
    /* the shortest of %.15g..%.17g that reads back as x */
    char buf[40];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    fputs(buf, out);
}

void json_value(FILE *out, const char *text)
{
    if (!text) {
        fputs("null", out);
        return;
    }
    char *end;
    double x = strtod(text, &end);
    /* "inf", "nan", hex and " 1" are not JSON numbers: keep them as text */
    bool plain = *text && (*text == '-' || (*text >= '0' && *text <= '9')) && *end == '\0' &&
                 isfinite(x);
    for (const char *p = text; plain && *p; p++)
        plain = (*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == '.' || *p == 'e' ||
                *p == 'E';
    if (plain)
        json_number(out, x);
    else
        json_string(out, text);
}
