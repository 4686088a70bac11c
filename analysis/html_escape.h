/* html_escape.h: text from a database or a user put into an HTML page as
 * text, never as markup: & < > " ' become entities, control characters other
 * than tab and line breaks become U+FFFD (they are not allowed in HTML). */
#ifndef STRAG_HTML_ESCAPE_H
#define STRAG_HTML_ESCAPE_H

#include <stdio.h>

/* Writes s, escaped for element content and quoted attribute values. */
void html_escape(FILE *out, const char *s);

#endif
