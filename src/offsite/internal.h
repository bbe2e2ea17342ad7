/* Interfaces shared by the files of the offsite module (src/offsite only): a
 * growable buffer with a hard maximum (after curl's dynbuf), a bounded
 * extractor for the few elements of S3's XML answers, and URI encoding. */
#ifndef DBBACKUPD_OFFSITE_INTERNAL_H
#define DBBACKUPD_OFFSITE_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- growable buffer ----
 * Always NUL-terminated once anything was added. Once an add fails (out of
 * memory or past max) the buffer stays failed: every later add fails too, so
 * a caller may add several pieces and check once. */
struct dbb_dynbuf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* most bytes it may hold, NUL excluded */
	bool failed;
};

void dbb_dynbuf_init(struct dbb_dynbuf *b, size_t max);
bool dbb_dynbuf_add(struct dbb_dynbuf *b, const void *p, size_t n);
bool dbb_dynbuf_adds(struct dbb_dynbuf *b, const char *s);
bool dbb_dynbuf_addf(struct dbb_dynbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The contents ("" when empty); NULL once failed. */
const char *dbb_dynbuf_str(const struct dbb_dynbuf *b);
/* Hands the malloc'd string to the caller (NULL once failed; "" malloc'd
 * when empty) and resets the buffer. */
char *dbb_dynbuf_take(struct dbb_dynbuf *b);
void dbb_dynbuf_reset(struct dbb_dynbuf *b);
/* Overwrites the contents with zeros before freeing them. */
void dbb_dynbuf_free(struct dbb_dynbuf *b);

/* ---- URI encoding (AWS's rule: every byte but A-Z a-z 0-9 - . _ ~ as %XX,
 * upper-case hex; '/' kept when keep_slash) ---- */
bool dbb_uri_encode(struct dbb_dynbuf *out, const char *s, size_t n, bool keep_slash);
/* Percent-decodes n bytes into out (cap bytes, NUL-terminated); '+' stays '+'.
 * False on a malformed escape, an encoded NUL, or when it does not fit. */
bool dbb_uri_decode(const char *s, size_t n, char *out, size_t cap);

/* ---- bounded XML extraction ----
 * Not a parser: it finds elements by name in a document that S3 (or a
 * compatible store) sent, which never nests an element inside one of the same
 * name. Every search stays inside [p, end). */

/* Finds the first element <name> (attributes allowed) or <name/> in [p, end);
 * sets its content [*content, *content + *len) and *after (just past its end
 * tag). False when there is none or it is not closed before end. */
bool dbb_xml_find(const char *p, const char *end, const char *name, const char **content,
                  size_t *len, const char **after);

/* Decodes the character data of an element (the five named entities and
 * &#N; / &#xN; references below 128; others are rejected) into out (cap
 * bytes, NUL-terminated). False when malformed or too long. */
bool dbb_xml_text(const char *content, size_t len, char *out, size_t cap);

/* dbb_xml_find + dbb_xml_text of the first <name> in [p, end). */
bool dbb_xml_get(const char *p, const char *end, const char *name, char *out, size_t cap);

#endif
