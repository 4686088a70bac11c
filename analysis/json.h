/* json.h: the few pieces of JSON the analysis commands write with
 * --format json (report, ls, diff, check): strings escaped per RFC 8259,
 * numbers that read back as the same double, NaN and infinities as null. */
#ifndef STRAG_JSON_H
#define STRAG_JSON_H

#include <stdio.h>

/* A JSON string; NULL writes null. */
void json_string(FILE *out, const char *s);

/* A number to 17 significant digits (exact), or null when not finite. */
void json_number(FILE *out, double x);

/* A param value: a number when the whole text is one (finite), else a
 * string; NULL writes null. */
void json_value(FILE *out, const char *text);

#endif
