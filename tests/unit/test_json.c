// SPDX-License-Identifier: Apache-2.0
/*
 * The JSON line writer (LOG-1): whatever bytes a string holds, the output is
 * one line that a strict RFC 8259 parser (json_check.h) accepts, and what the
 * parser decodes is what the escaping rules promise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/json.h"
#include "json_check.h"

#define S(lit) lit, sizeof(lit) - 1
#define FFFD "\xef\xbf\xbd"

/* One line: no raw newline, no raw DEL, no raw U+2028/U+2029, parses. */
static void assert_one_valid_line(const char *buf, size_t len)
{
	size_t i;

	assert_non_null(buf);
	assert_int_equal(strlen(buf), len);
	for (i = 0; i < len; i++) {
		assert_int_not_equal(buf[i], '\n');
		assert_int_not_equal(buf[i], '\r');
		assert_int_not_equal(buf[i], 0x7f);
		if (i + 2 < len && (unsigned char)buf[i] == 0xe2 &&
		    (unsigned char)buf[i + 1] == 0x80)
			assert_true((unsigned char)buf[i + 2] != 0xa8 &&
				    (unsigned char)buf[i + 2] != 0xa9);
	}
	assert_true(jc_parse(buf, len, NULL));
}

/* {"name": <s as written by sg_json_kv_strn>} */
static void render_name(struct sg_json *j, const char *s, size_t n)
{
	sg_json_init(j);
	sg_json_begin_object(j);
	sg_json_kv_strn(j, "name", s, n);
	sg_json_end_object(j);
	assert_false(j->oom);
	assert_int_equal(j->depth, 0);
	assert_one_valid_line(j->buf, j->len);
}

/* The decoded "name" equals want[0..wn). */
static void assert_name_decodes_to(const char *s, size_t n, const char *want, size_t wn)
{
	const struct jc_member *m;
	struct sg_json j;
	struct jc_doc d;

	render_name(&j, s, n);
	assert_true(jc_parse(j.buf, j.len, &d));
	m = jc_get(&d, "name");
	assert_non_null(m);
	assert_int_equal(m->kind, JC_STRING);
	assert_int_equal(m->str_len, wn);
	assert_memory_equal(m->str, want, wn);
	jc_doc_free(&d);
	sg_json_free(&j);
}

static void assert_name_renders_as(const char *s, size_t n, const char *want)
{
	struct sg_json j;

	render_name(&j, s, n);
	assert_string_equal(j.buf, want);
	sg_json_free(&j);
}

/* The checker is only worth its verdicts if it says no when it should. */
static void test_strict_checker_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"", "{", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "{a:1}", "01", "1.",
		"-", "+1", ".5", "1e", "0x1", "\"a\nb\"", "\"\t\"", "\"\x01\"",
		"\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"",
		"\"\\ud800\\u0041\"", "\"\xff\"", "\"\xc0\xaf\"",
		"\"\xed\xa0\x80\"", "\"\xe2\x82\"", "\"\xf4\x90\x80\x80\"",
		"{}{}", "{} x", "\"abc", "tru", "nul",
	};
	static const char *const good[] = {
		"{}", "[]", "0", "-0.5e+3", "1E9", "\"\\ud83d\\ude00\\u0000\\/\"",
		" {\"a\" : [true, false, null, {\"b\":\"\xc3\xa9\"}]} ", "\"\x7f\"",
	};
	char deep[2 * (JC_MAX_DEPTH + 1)];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(jc_parse(bad[i], strlen(bad[i]), NULL));
	/* Nesting is bounded: JC_MAX_DEPTH levels pass, one more does not. */
	memset(deep, '[', JC_MAX_DEPTH + 1);
	memset(deep + JC_MAX_DEPTH + 1, ']', JC_MAX_DEPTH + 1);
	assert_false(jc_parse(deep, sizeof(deep), NULL));
	assert_true(jc_parse(deep + 1, sizeof(deep) - 2, NULL));
	assert_false(jc_parse(S("\"a\0b\""), NULL));
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(jc_parse(good[i], strlen(good[i]), NULL));
}

static void test_plain_ascii_kept_verbatim(void **state)
{
	assert_name_renders_as(S("/usr/bin/ls -la"), "{\"name\":\"/usr/bin/ls -la\"}");
}

static void test_quote_and_backslash_escaped(void **state)
{
	assert_name_renders_as(S("a\"b\\c"), "{\"name\":\"a\\\"b\\\\c\"}");
	assert_name_decodes_to(S("a\"b\\c"), S("a\"b\\c"));
}

static void test_newline_in_name_cannot_forge_record(void **state)
{
	static const char evil[] =
		"x\"\n}\n{\"event_id\":\"x\",\"severity\":\"info\"}\n{\"a\":\"";
	const struct jc_member *m;
	struct sg_json j;
	struct jc_doc d;

	sg_json_init(&j);
	sg_json_begin_object(&j);
	sg_json_kv_str(&j, "event_id", "0000000000000001");
	sg_json_kv_strn(&j, "name", S(evil));
	sg_json_kv_str(&j, "severity", "critical");
	sg_json_end_object(&j);
	assert_one_valid_line(j.buf, j.len);

	assert_true(jc_parse(j.buf, j.len, &d));
	assert_false(d.dup_keys);
	assert_int_equal(d.n, 3);
	m = jc_get(&d, "event_id");
	assert_string_equal(m->str, "0000000000000001");
	m = jc_get(&d, "severity");
	assert_string_equal(m->str, "critical");
	m = jc_get(&d, "name");
	assert_int_equal(m->str_len, sizeof(evil) - 1);
	assert_memory_equal(m->str, evil, sizeof(evil) - 1);
	jc_doc_free(&d);
	sg_json_free(&j);
}

static void test_control_chars_escaped(void **state)
{
	char in[0x20], want[256];
	size_t n = 0;
	int c;

	n += (size_t)snprintf(want + n, sizeof(want) - n, "{\"name\":\"");
	for (c = 0; c < 0x20; c++) {
		in[c] = (char)c;
		switch (c) {
		case '\b':
			n += (size_t)snprintf(want + n, sizeof(want) - n, "\\b");
			break;
		case '\t':
			n += (size_t)snprintf(want + n, sizeof(want) - n, "\\t");
			break;
		case '\n':
			n += (size_t)snprintf(want + n, sizeof(want) - n, "\\n");
			break;
		case '\f':
			n += (size_t)snprintf(want + n, sizeof(want) - n, "\\f");
			break;
		case '\r':
			n += (size_t)snprintf(want + n, sizeof(want) - n, "\\r");
			break;
		default:
			n += (size_t)snprintf(want + n, sizeof(want) - n, "\\u%04x", c);
		}
	}
	snprintf(want + n, sizeof(want) - n, "\"}");
	assert_name_renders_as(in, sizeof(in), want);
	assert_name_decodes_to(in, sizeof(in), in, sizeof(in));
}

static void test_tabs_in_name_escaped(void **state)
{
	assert_name_renders_as(S("a\tb\t"), "{\"name\":\"a\\tb\\t\"}");
}

static void test_del_escaped_as_u007f(void **state)
{
	assert_name_renders_as(S("a\x7f" "b"), "{\"name\":\"a\\u007fb\"}");
	assert_name_decodes_to(S("a\x7f" "b"), S("a\x7f" "b"));
}

static void test_embedded_nul_becomes_u0000(void **state)
{
	assert_name_renders_as(S("a\0b\0"), "{\"name\":\"a\\u0000b\\u0000\"}");
	assert_name_decodes_to(S("a\0b\0"), S("a\0b\0"));
}

static void test_js_line_separators_escaped(void **state)
{
	assert_name_renders_as(S("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c\xe2\x80\xa7"),
			       "{\"name\":\"a\\u2028b\\u2029c\xe2\x80\xa7\"}");
	assert_name_decodes_to(S("\xe2\x80\xa8\xe2\x80\xa9"), S("\xe2\x80\xa8\xe2\x80\xa9"));
}

static void test_valid_utf8_kept_verbatim(void **state)
{
	static const char s[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 "
				"\xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbd \xf4\x8f\xbf\xbf";
	char want[128];

	snprintf(want, sizeof(want), "{\"name\":\"%s\"}", s);
	assert_name_renders_as(S(s), want);
}

struct utf8_case {
	const char *in;
	size_t in_len;
	const char *want;	/* decoded */
	size_t want_len;
};

#define UC(a, b) { S(a), S(b) }

/* Unicode 3.9 "U+FFFD substitution of maximal subparts". */
static const struct utf8_case maximal_subpart[] = {
	UC("\xff", FFFD),
	UC("\xfe\xff", FFFD FFFD),
	UC("\xc0\xaf", FFFD FFFD),			/* overlong '/' */
	UC("\xc1\xbf", FFFD FFFD),
	UC("\xe0\x80\xaf", FFFD FFFD FFFD),		/* overlong, 3 bytes */
	UC("\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD),	/* overlong, 4 bytes */
	UC("\xed\xa0\x80", FFFD FFFD FFFD),		/* lone surrogate D800 */
	UC("\xed\xbf\xbf", FFFD FFFD FFFD),		/* lone surrogate DFFF */
	UC("\xe2\x82", FFFD),				/* truncated at end */
	UC("\xe2\x82" "A", FFFD "A"),
	UC("\xe2\x82\"", FFFD "\""),			/* quote not swallowed */
	UC("\xe2\x82\n", FFFD "\n"),			/* newline not swallowed */
	UC("\xc3\\", FFFD "\\"),
	UC("\xf0\x9f\x98", FFFD),
	UC("\xf0\x9f\x98\xf0\x9f\x98\x80", FFFD "\xf0\x9f\x98\x80"),
	UC("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD),	/* > U+10FFFF */
	UC("\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD),
	UC("\x80\xbf", FFFD FFFD),			/* stray continuations */
	UC("\xc2", FFFD),
	UC("\xc2\xc2\xa9", FFFD "\xc2\xa9"),
	/* The example of Unicode 3.9, table 3-8. */
	UC("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64",
	   "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d"),
};

static void test_invalid_utf8_replaced_by_maximal_subpart(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(maximal_subpart) / sizeof(maximal_subpart[0]); i++) {
		const struct utf8_case *c = &maximal_subpart[i];

		assert_name_decodes_to(c->in, c->in_len, c->want, c->want_len);
	}
}

static void test_utf8_valid_table(void **state)
{
	size_t i;

	assert_true(sg_utf8_valid(S("")));
	assert_true(sg_utf8_valid(S("plain")));
	assert_true(sg_utf8_valid(S("a\0b")));
	assert_true(sg_utf8_valid(S("\xc2\x80\xdf\xbf")));
	assert_true(sg_utf8_valid(S("\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf")));
	assert_true(sg_utf8_valid(S("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf")));
	for (i = 0; i < sizeof(maximal_subpart) / sizeof(maximal_subpart[0]); i++)
		assert_false(sg_utf8_valid(maximal_subpart[i].in, maximal_subpart[i].in_len));
}

static void unhex(const char *h, size_t hn, char *out)
{
	size_t i;

	assert_int_equal(hn % 2, 0);
	for (i = 0; i < hn; i += 2) {
		unsigned int v;
		char pair[3] = { h[i], h[i + 1], '\0' };

		assert_true(strspn(pair, "0123456789abcdef") == 2);
		assert_int_equal(sscanf(pair, "%2x", &v), 1);
		out[i / 2] = (char)v;
	}
}

/* kv_bytes output: the name, and name_hex only if the bytes are not UTF-8. */
static void check_kv_bytes(const char *s, size_t n)
{
	const struct jc_member *name, *hex;
	struct sg_json j;
	struct jc_doc d;
	char *back;

	sg_json_init(&j);
	sg_json_begin_object(&j);
	sg_json_kv_bytes(&j, "path", s, n);
	sg_json_end_object(&j);
	assert_one_valid_line(j.buf, j.len);
	assert_true(jc_parse(j.buf, j.len, &d));
	assert_false(d.dup_keys);
	name = jc_get(&d, "path");
	hex = jc_get(&d, "path_hex");
	assert_non_null(name);
	if (sg_utf8_valid(s, n)) {
		assert_null(hex);
		assert_int_equal(name->str_len, n);
		assert_memory_equal(name->str, s, n);
	} else {
		assert_non_null(hex);
		assert_int_equal(hex->kind, JC_STRING);
		assert_int_equal(hex->str_len, 2 * n);
		back = malloc(n + 1);
		unhex(hex->str, hex->str_len, back);
		assert_memory_equal(back, s, n);
		free(back);
		assert_true(sg_utf8_valid(name->str, name->str_len));
	}
	jc_doc_free(&d);
	sg_json_free(&j);
}

static void test_kv_bytes_valid_utf8_has_no_hex(void **state)
{
	check_kv_bytes(S("/usr/bin/caf\xc3\xa9"));
	check_kv_bytes(S("new\nline\"quote\0nul"));
	check_kv_bytes(S(""));
}

static void test_kv_bytes_hex_round_trips(void **state)
{
	char all[256];
	size_t i;

	for (i = 0; i < sizeof(maximal_subpart) / sizeof(maximal_subpart[0]); i++)
		check_kv_bytes(maximal_subpart[i].in, maximal_subpart[i].in_len);
	for (i = 0; i < sizeof(all); i++)
		all[i] = (char)i;
	check_kv_bytes(all, sizeof(all));
	check_kv_bytes(S("/tmp/\xff\0\n\"evil"));
}

static void test_kv_hex_is_lowercase(void **state)
{
	static const uint8_t b[] = { 0x00, 0xab, 0xcd, 0xef, 0x10, 0xff };
	struct sg_json j;

	sg_json_init(&j);
	sg_json_begin_object(&j);
	sg_json_kv_hex(&j, "sha256", b, sizeof(b));
	sg_json_kv_hex(&j, "empty", NULL, 0);
	sg_json_end_object(&j);
	assert_string_equal(j.buf, "{\"sha256\":\"00abcdef10ff\",\"empty\":\"\"}");
	sg_json_free(&j);
}

static void test_builder_commas_and_nesting(void **state)
{
	struct sg_json j;

	sg_json_init(&j);
	sg_json_begin_object(&j);
	sg_json_kv_str(&j, "a", "x");
	sg_json_key(&j, "argv");
	sg_json_begin_array(&j);
	sg_json_str(&j, "sh");
	sg_json_str(&j, "-c");
	sg_json_begin_array(&j);
	sg_json_end_array(&j);
	sg_json_begin_object(&j);
	sg_json_end_object(&j);
	sg_json_end_array(&j);
	sg_json_key(&j, "parent");
	sg_json_begin_object(&j);
	sg_json_kv_u64(&j, "pid", 1);
	sg_json_kv_bool(&j, "root", true);
	sg_json_kv_bool(&j, "kthread", false);
	sg_json_key(&j, "cgroup");
	sg_json_null(&j);
	sg_json_end_object(&j);
	sg_json_kv_i64(&j, "neg", -5);
	sg_json_end_object(&j);
	assert_int_equal(j.depth, 0);
	assert_string_equal(j.buf,
			    "{\"a\":\"x\",\"argv\":[\"sh\",\"-c\",[],{}],"
			    "\"parent\":{\"pid\":1,\"root\":true,\"kthread\":false,"
			    "\"cgroup\":null},\"neg\":-5}");
	assert_one_valid_line(j.buf, j.len);
	sg_json_free(&j);
}

static void test_numbers_are_plain_json_numbers(void **state)
{
	struct sg_json j;

	sg_json_init(&j);
	sg_json_begin_array(&j);
	sg_json_u64(&j, 0);
	sg_json_u64(&j, UINT64_MAX);
	sg_json_i64(&j, 0);
	sg_json_i64(&j, -1);
	sg_json_i64(&j, INT64_MAX);
	sg_json_i64(&j, INT64_MIN);
	sg_json_end_array(&j);
	assert_string_equal(j.buf, "[0,18446744073709551615,0,-1,"
			    "9223372036854775807,-9223372036854775808]");
	assert_one_valid_line(j.buf, j.len);
	sg_json_free(&j);
}

static void test_null_string_is_json_null(void **state)
{
	struct sg_json j;

	sg_json_init(&j);
	sg_json_begin_object(&j);
	sg_json_kv_str(&j, "a", NULL);
	sg_json_kv_strn(&j, "b", NULL, 5);
	sg_json_kv_bytes(&j, "c", NULL, 0);
	sg_json_kv_str(&j, "d", "");
	sg_json_end_object(&j);
	assert_string_equal(j.buf, "{\"a\":null,\"b\":null,\"c\":null,\"d\":\"\"}");
	sg_json_free(&j);
}

static void test_key_is_escaped(void **state)
{
	struct sg_json j;
	struct jc_doc d;

	sg_json_init(&j);
	sg_json_begin_object(&j);
	sg_json_kv_u64(&j, "k\"\n\xff", 1);
	sg_json_end_object(&j);
	assert_one_valid_line(j.buf, j.len);
	assert_true(jc_parse(j.buf, j.len, &d));
	assert_non_null(jc_get(&d, "k\"\n" FFFD));
	jc_doc_free(&d);
	sg_json_free(&j);
}

static void test_large_string_grows_by_doubling(void **state)
{
	size_t n = 1 << 20, i, cap;
	struct sg_json j;
	char *s = malloc(n);

	assert_non_null(s);
	for (i = 0; i < n; i++)
		s[i] = (i % 1000 == 999) ? '\xff' : 'a';
	render_name(&j, s, n);
	assert_true(j.cap > j.len);
	/* Capacities go 256, 512, ...: always a power of two times 256. */
	cap = j.cap / 256;
	assert_int_equal(j.cap % 256, 0);
	assert_int_equal(cap & (cap - 1), 0);
	sg_json_free(&j);
	free(s);
}

static void test_deep_nesting_needs_no_recursion(void **state)
{
	const unsigned depth = 100000;
	struct sg_json j;
	unsigned i;

	sg_json_init(&j);
	for (i = 0; i < depth; i++)
		sg_json_begin_array(&j);
	assert_int_equal(j.depth, depth);
	for (i = 0; i < depth; i++)
		sg_json_end_array(&j);
	assert_int_equal(j.depth, 0);
	assert_int_equal(j.len, 2 * depth);
	assert_int_equal(j.buf[depth - 1], '[');
	assert_int_equal(j.buf[depth], ']');
	sg_json_free(&j);
}

static void test_oom_stops_appending(void **state)
{
	struct sg_json j;
	size_t len;

	sg_json_init(&j);
	sg_json_begin_object(&j);
	sg_json_kv_str(&j, "a", "b");
	j.oom = true;	/* what a failed realloc leaves behind */
	len = j.len;
	sg_json_kv_strn(&j, "c", S("\xff\n"));
	sg_json_kv_bytes(&j, "d", S("\xff"));
	sg_json_kv_hex(&j, "e", (const uint8_t *)"x", 1);
	sg_json_kv_u64(&j, "f", 1);
	sg_json_end_object(&j);
	sg_json_end_line(&j);
	assert_int_equal(j.len, len);
	assert_true(j.oom);
	assert_string_equal(j.buf, "{\"a\":\"b\"");

	sg_json_reset(&j);
	assert_false(j.oom);
	sg_json_begin_object(&j);
	sg_json_end_object(&j);
	assert_string_equal(j.buf, "{}");
	sg_json_free(&j);
}

static void test_reset_keeps_buffer(void **state)
{
	struct sg_json j;
	size_t cap;
	char *buf;

	sg_json_init(&j);
	sg_json_begin_object(&j);
	sg_json_kv_str(&j, "a", "b");
	buf = j.buf;
	cap = j.cap;
	sg_json_reset(&j);
	assert_ptr_equal(j.buf, buf);
	assert_int_equal(j.cap, cap);
	assert_int_equal(j.len, 0);
	assert_int_equal(j.depth, 0);
	assert_false(j.need_comma);
	sg_json_begin_object(&j);
	sg_json_kv_u64(&j, "n", 7);
	sg_json_end_object(&j);
	assert_string_equal(j.buf, "{\"n\":7}");
	sg_json_free(&j);
	assert_null(j.buf);
}

static void test_end_line_only_after_complete_value(void **state)
{
	struct sg_json j;

	sg_json_init(&j);
	sg_json_end_line(&j);
	assert_int_equal(j.len, 0);
	sg_json_begin_object(&j);
	sg_json_end_line(&j);
	assert_string_equal(j.buf, "{");
	sg_json_end_object(&j);
	sg_json_end_object(&j);	/* one too many: ignored */
	sg_json_end_line(&j);
	assert_string_equal(j.buf, "{}\n");
	sg_json_free(&j);
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Bytes biased towards the ones that matter for UTF-8 and JSON. */
static char rng_byte(uint64_t *s)
{
	static const unsigned char hot[] = {
		0x00, '\n', '"', '\\', 0x7f, 0x80, 0x8f, 0x9f, 0xa0, 0xa8, 0xa9,
		0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5,
		0xff, 'a',
	};
	uint64_t r = rng_next(s);

	if (r & 1)
		return (char)hot[(r >> 8) % sizeof(hot)];
	return (char)(r >> 8);
}

static void test_random_bytes_always_one_valid_line(void **state)
{
	uint64_t seed = 0x5eed5eed5eedULL;
	char s[300];
	int iter;

	for (iter = 0; iter < 3000; iter++) {
		size_t n = rng_next(&seed) % sizeof(s), i;

		for (i = 0; i < n; i++)
			s[i] = rng_byte(&seed);
		if (sg_utf8_valid(s, n))
			assert_name_decodes_to(s, n, s, n);
		check_kv_bytes(s, n);
	}
}

/* sg_utf8_valid agrees with the checker's independent decoder. */
static void test_utf8_valid_agrees_with_strict_parser(void **state)
{
	uint64_t seed = 0xdecafbadULL;
	char s[64];
	int iter;

	for (iter = 0; iter < 20000; iter++) {
		size_t n = 1 + rng_next(&seed) % 8, i;

		s[0] = '"';
		for (i = 1; i <= n; i++) {
			char c;

			do
				c = rng_byte(&seed);
			while ((unsigned char)c < 0x20 || c == '"' || c == '\\');
			s[i] = c;
		}
		s[n + 1] = '"';
		assert_int_equal(sg_utf8_valid(s + 1, n), jc_parse(s, n + 2, NULL));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strict_checker_rejects_malformed),
		cmocka_unit_test(test_plain_ascii_kept_verbatim),
		cmocka_unit_test(test_quote_and_backslash_escaped),
		cmocka_unit_test(test_newline_in_name_cannot_forge_record),
		cmocka_unit_test(test_control_chars_escaped),
		cmocka_unit_test(test_tabs_in_name_escaped),
		cmocka_unit_test(test_del_escaped_as_u007f),
		cmocka_unit_test(test_embedded_nul_becomes_u0000),
		cmocka_unit_test(test_js_line_separators_escaped),
		cmocka_unit_test(test_valid_utf8_kept_verbatim),
		cmocka_unit_test(test_invalid_utf8_replaced_by_maximal_subpart),
		cmocka_unit_test(test_utf8_valid_table),
		cmocka_unit_test(test_kv_bytes_valid_utf8_has_no_hex),
		cmocka_unit_test(test_kv_bytes_hex_round_trips),
		cmocka_unit_test(test_kv_hex_is_lowercase),
		cmocka_unit_test(test_builder_commas_and_nesting),
		cmocka_unit_test(test_numbers_are_plain_json_numbers),
		cmocka_unit_test(test_null_string_is_json_null),
		cmocka_unit_test(test_key_is_escaped),
		cmocka_unit_test(test_large_string_grows_by_doubling),
		cmocka_unit_test(test_deep_nesting_needs_no_recursion),
		cmocka_unit_test(test_oom_stops_appending),
		cmocka_unit_test(test_reset_keeps_buffer),
		cmocka_unit_test(test_end_line_only_after_complete_value),
		cmocka_unit_test(test_random_bytes_always_one_valid_line),
		cmocka_unit_test(test_utf8_valid_agrees_with_strict_parser),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
