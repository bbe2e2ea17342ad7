/* libFuzzer target: the MySQL/MariaDB dump checker (src/driver/mysql_script.c)
 * on an uploaded .sql file, without a server. Input: one byte choosing how
 * the bytes are handed out (odd chunk sizes cross every lookahead), then
 * the file.
 *
 * 1. The driver's validate exactly as a restore runs it (ops.c
 *    validate_input): gunzip source, classification, the checker, then the
 *    rest drained. Every refusal says why.
 * 2. The checker alone, fed in chunks and fed whole: the same verdict and
 *    the same message.
 * 3. An oracle: a plain transcription of the mariadb client's own loop
 *    (client/mysql.cc 10.11: read_and_execute, add_line, find_command,
 *    com_delimiter), lines read as in binary mode, commands recognised as
 *    a client without binary mode would. If the checker accepts a file,
 *    that client must find no command in it but `\-`, `use` and the
 *    DELIMITER ; / ;; lines. Files that name a mode changing how quotes
 *    read (NO_BACKSLASH_ESCAPES, ANSI_QUOTES and the modes that imply it)
 *    are left out of this comparison: the oracle does not follow them. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbbackupd/driver.h"
#include "dbbackupd/stream.h"
#include "driver/mysql_script.h"

#include "../mem_source.h"

/* ---- the oracle: mysql.cc, transcribed plainly ---- */

struct client {
	char delimiter[16];
	char in_string;
	bool ml_comment;
	bool buffer_empty;
	const char *found; /* the first command found, or NULL */
	char found_buf[64];
};

static bool my_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static const struct {
	const char *name;
	char cmd_char;
	bool takes_params;
} commands[] = {
    {"?", '?', 1},         {"charset", 'C', 1}, {"clear", 'c', 0},   {"connect", 'r', 1},
    {"delimiter", 'd', 1}, {"edit", 'e', 0},    {"ego", 'G', 0},     {"exit", 'q', 0},
    {"go", 'g', 0},        {"help", 'h', 1},    {"nopager", 'n', 0}, {"notee", 't', 0},
    {"nowarning", 'w', 0}, {"pager", 'P', 1},   {"print", 'p', 0},   {"prompt", 'R', 1},
    {"quit", 'q', 0},      {"rehash", '#', 0},  {"sandbox", '-', 0}, {"source", '.', 1},
    {"status", 's', 0},    {"system", '!', 1},  {"tee", 'T', 1},     {"use", 'u', 1},
    {"warnings", 'W', 0},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* get_arg(line, GET/CHECK): the argument after the command word. */
static bool get_arg(const char *line, char *out, size_t cap)
{
	const char *ptr = line, *start;
	bool short_cmd;
	char qtype = 0;
	size_t n = 0;

	while (my_space((unsigned char)*ptr))
		ptr++;
	if ((short_cmd = *ptr == '\\'))
		ptr += 2;
	else
		while (*ptr && !my_space((unsigned char)*ptr))
			ptr++;
	if (!*ptr)
		return false;
	while (my_space((unsigned char)*ptr))
		ptr++;
	if (*ptr == '\'' || *ptr == '"' || *ptr == '`')
		qtype = *ptr++;
	for (start = ptr; *ptr; ptr++) {
		if (short_cmd ? (*ptr == '\\' && ptr[1])
		              : (*ptr == '\\' && ptr[1] && qtype != '`') ||
		                    (qtype && *ptr == qtype && ptr[1] == qtype)) {
			ptr++;
		} else if (*ptr == (qtype ? qtype : ' ')) {
			qtype = 0;
			break;
		}
		if (n + 1 < cap)
			out[n++] = *ptr;
	}
	out[n] = '\0';
	return ptr != start && !qtype;
}

static bool is_delimiter_command(const char *name, size_t len)
{
	return len >= 9 && strncasecmp(name, "delimiter", 9) == 0;
}

/* A command ran: allowed are \- and use (checked elsewhere), and
 * DELIMITER ; or ;; (which changes the delimiter). */
static void run_command(struct client *c, size_t i, const char *line)
{
	char arg[64];

	if (c->found)
		return;
	if (commands[i].cmd_char == '-' || commands[i].cmd_char == 'u')
		return;
	if (commands[i].cmd_char == 'd' && get_arg(line, arg, sizeof(arg)) &&
	    (!strcmp(arg, ";") || !strcmp(arg, ";;") || !strcmp(arg, ";\r") ||
	     !strcmp(arg, ";;\r"))) {
		snprintf(c->delimiter, sizeof(c->delimiter), "%s", arg);
		return;
	}
	snprintf(c->found_buf, sizeof(c->found_buf), "%s", commands[i].name);
	c->found = c->found_buf;
}

/* find_command(char *name), as without binary mode */
static int find_command_name(const struct client *c, const char *name)
{
	const char *end;
	size_t len, i;
	char arg[64];

	while (my_space((unsigned char)*name))
		name++;
	if (strstr(name, "\\g") || (strstr(name, c->delimiter) && !is_delimiter_command(name, 9)))
		return -1;
	end = strpbrk(name, " \t");
	if (end) {
		len = (size_t)(end - name);
		while (my_space((unsigned char)*end))
			end++;
		if (!*end)
			end = NULL;
	} else {
		len = strlen(name);
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (strlen(commands[i].name) == len &&
		    strncasecmp(name, commands[i].name, len) == 0 &&
		    (!end || (commands[i].takes_params && get_arg(name, arg, sizeof(arg)))))
			return (int)i;
	return -1;
}

static int find_command_char(char ch)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (commands[i].cmd_char == ch)
			return (int)i;
	return -2; /* unknown command: an error, the client stops */
}

/* my_ismbchar for utf8mb4: the length of a well-formed multi-byte
 * character at p, 0 if there is none. */
static size_t mb_len(const unsigned char *p, const unsigned char *end)
{
	size_t n, i;

	if (p[0] < 0xC2)
		return 0;
	n = p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : p[0] < 0xF5 ? 4 : 0;
	if (!n || (size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] > 0x9F) ||
	    (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] > 0x8F))
		return 0;
	return n;
}

/* The statement buffer: only whether it is empty and its text matter. */
struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void add_line(struct client *c, struct buf *buffer, char *line, size_t line_length)
{
	char *pos, *out;
	bool need_space = false, ss_comment = false;
	char *end_of_line = line + line_length;
	unsigned char inchar;
	size_t mb;
	int com;

	if (!line[0] && buffer->len == 0)
		return;
	for (pos = out = line; pos < end_of_line && !c->found; pos++) {
		inchar = (unsigned char)*pos;
		if (my_space(inchar) && out == line && buffer->len == 0)
			continue;
		/* multi-byte characters are copied as they are (USE_MB) */
		if ((mb = mb_len((const unsigned char *)pos, (const unsigned char *)end_of_line))) {
			if (!c->ml_comment)
				while (mb--)
					*out++ = *pos++;
			else
				pos += mb;
			pos--;
			continue;
		}
		if (!c->ml_comment && inchar == '\\' && c->in_string != '`') {
			if (!(inchar = (unsigned char)*++pos) && !c->in_string)
				break;
			if (c->in_string || inchar == 'N') {
				*out++ = '\\';
				*out++ = (char)inchar;
				continue;
			}
			com = find_command_char((char)inchar);
			if (out != line) {
				buf_add(buffer, line, (size_t)(out - line));
				out = line;
			}
			if (com < 0 || commands[com].cmd_char != '-') {
				/* a short command, or an unknown one (the client stops) */
				snprintf(c->found_buf, sizeof(c->found_buf), "\\%c", inchar);
				c->found = c->found_buf;
				return;
			}
			continue; /* \- : sandbox mode, no parameters */
		} else if (!c->ml_comment && !c->in_string &&
		           strncmp(pos, c->delimiter, strlen(c->delimiter)) == 0) {
			pos += strlen(c->delimiter);
			if (out != line) {
				buf_add(buffer, line, (size_t)(out - line));
				out = line;
			}
			pos--;
			buf_add(buffer, "", 0);
			com = find_command_name(c, buffer->p);
			if (com >= 0)
				run_command(c, (size_t)com, buffer->p);
			buffer->len = 0;
			buffer->p[0] = '\0';
		} else if (!c->ml_comment &&
		           (!c->in_string &&
		            (inchar == '#' || (inchar == '-' && pos[1] == '-' &&
		                               ((my_space((unsigned char)pos[2]) || !pos[2]) ||
		                                (buffer->len == 0 && out == line)))))) {
			if (out != line) {
				buf_add(buffer, line, (size_t)(out - line));
				out = line;
			}
			break;
		} else if (!c->in_string && inchar == '/' && pos[1] == '*' &&
		           !(pos[2] == '!' || (pos[2] == 'M' && pos[3] == '!'))) {
			pos++;
			c->ml_comment = true;
			if (out != line) {
				buf_add(buffer, line, (size_t)(out - line));
				out = line;
			}
		} else if (c->ml_comment && !ss_comment && inchar == '*' && pos[1] == '/') {
			pos++;
			c->ml_comment = false;
			if (out != line) {
				buf_add(buffer, line, (size_t)(out - line));
				out = line;
			}
			need_space = true;
		} else {
			if (!c->in_string && inchar == '/' && pos[1] == '*' && pos[2] == '!')
				ss_comment = true;
			else if (!c->in_string && ss_comment && inchar == '*' && pos[1] == '/')
				ss_comment = false;
			if (inchar == (unsigned char)c->in_string)
				c->in_string = 0;
			else if (!c->ml_comment && !c->in_string &&
			         (inchar == '\'' || inchar == '"' || inchar == '`'))
				c->in_string = (char)inchar;
			if (!c->ml_comment) {
				if (need_space && !my_space(inchar))
					*out++ = ' ';
				need_space = false;
				*out++ = (char)inchar;
			}
		}
	}
	if (c->found)
		return;
	if (out != line || buffer->len) {
		size_t length = (size_t)(out - line);

		if (!is_delimiter_command(line, length) || c->in_string || c->ml_comment)
			line[length++] = '\n';
		if (!c->ml_comment)
			buf_add(buffer, line, length);
	}
}

/* Returns the first command the client would run, or NULL. */
static const char *oracle(const uint8_t *data, size_t size, struct client *c)
{
	struct buf buffer = {0};
	size_t off = 0, lineno = 0;

	memset(c, 0, sizeof(*c));
	snprintf(c->delimiter, sizeof(c->delimiter), ";");
	buf_add(&buffer, "", 0);
	while (off < size && !c->found) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t n = nl ? (size_t)(nl - (data + off)) : size - off;
		/* room for add_line's newline and lookahead past the end */
		char *line = calloc(1, n + 8);
		char *l = line;
		int com;

		if (!line)
			abort();
		memcpy(line, data + off, n);
		off += n + (nl ? 1 : 0);
		if (!lineno++ && n >= 3 && (uint8_t)line[0] == 0xEF && (uint8_t)line[1] == 0xBB &&
		    (uint8_t)line[2] == 0xBF) {
			l += 3;
			n -= 3;
		}
		if (buffer.len == 0 && !c->ml_comment && !c->in_string &&
		    (com = find_command_name(c, l)) >= 0)
			run_command(c, (size_t)com, l);
		else
			add_line(c, &buffer, l, n);
		free(line);
	}
	free(buffer.p);
	return c->found;
}

/* Whether the file could switch the session to a mode where backslashes
 * or double quotes read otherwise (the checker follows these, the oracle
 * does not): the name of such a mode appears in it. */
static bool sets_quoting_mode(const uint8_t *data, size_t size)
{
	static const char *const modes[] = {
	    "NO_BACKSLASH_ESCAPES", "ANSI", "ORACLE", "DB2", "MSSQL", "POSTGRESQL", "MAXDB"};
	size_t i, k;

	for (i = 0; i < size; i++)
		for (k = 0; k < sizeof(modes) / sizeof(modes[0]); k++)
			if (size - i >= strlen(modes[k]) &&
			    strncasecmp((const char *)data + i, modes[k], strlen(modes[k])) == 0)
				return true;
	return false;
}

/* ---- the checker, three ways ---- */

static dbb_code check_chunks(const uint8_t *data, size_t size, size_t step, struct dbb_error *err)
{
	struct my_script *s = my_script_new("dbbtest");
	dbb_code rc = DBB_OK;
	size_t off;

	if (!s)
		abort();
	for (off = 0; off < size && !rc; off += step)
		rc = my_script_feed(s, data + off, size - off < step ? size - off : step, err);
	if (!rc)
		rc = my_script_finish(s, err);
	my_script_free(s);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dbb_config cfg;
	const struct dbb_driver *drv = dbb_driver_find("mysql");
	struct dbb_driver_ctx ctx = {.cfg = &cfg};
	struct dbb_error err = {0}, e1 = {0}, e2 = {0};
	struct dbb_source *gz = NULL;
	struct mem_source m;
	struct client client;
	size_t step;
	dbb_code rc, r1, r2;

	if (!drv || size < 1)
		return 0;
	snprintf(cfg.db_name, sizeof(cfg.db_name), "dbbtest");
	step = data[0] & 0x80 ? SIZE_MAX : (size_t)(data[0] & 0x7f) + 1;
	data++;
	size--;

	/* 1. validate, as ops' validate_input runs it */
	m = mem_source(data, size, step == SIZE_MAX ? 0 : step * 13);
	rc = dbb_decompress_source_new(&m.base, &gz, &err);
	if (!rc) {
		rc = drv->validate(&ctx, gz, &err);
		if (!rc)
			rc = dbb_stream_drain(gz, NULL, &err);
	}
	dbb_source_free(gz);
	if (rc && err.message[0] == '\0')
		abort(); /* every failure says why */

	/* 2. the checker in chunks and whole: one verdict, one message */
	r1 = check_chunks(data, size, step == SIZE_MAX ? size + 1 : step, &e1);
	r2 = check_chunks(data, size, size + 1, &e2);
	if (r1 != r2 || (r1 && strcmp(e1.message, e2.message) != 0)) {
		fprintf(stderr, "chunked: %s\nwhole: %s\n", r1 ? e1.message : "accepted",
		        r2 ? e2.message : "accepted");
		abort();
	}
	if (r1 && e1.message[0] == '\0')
		abort();
	if (getenv("DBB_FUZZ_VERBOSE"))
		fprintf(stderr, "validate: %s\nchecker: %s\n", rc ? err.message : "accepted",
		        r1 ? e1.message : "accepted");

	/* 3. accepted: the client finds no command in it */
	if (r1 == DBB_OK && !memmem(data, size, "\0", 1) && !sets_quoting_mode(data, size) &&
	    oracle(data, size, &client)) {
		fprintf(stderr, "accepted, but the client would run \"%s\"\n", client.found);
		abort();
	}
	return 0;
}
