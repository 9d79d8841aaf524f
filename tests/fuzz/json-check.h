/* json-check: strict checks of what closewaitd writes for other programs and for people, written
 * apart from the code they check (strutil.c) so that a shared mistake cannot hide: a JSON
 * validator (RFC 8259, UTF-8 only, no lone surrogates), a JSON string decoder, a test for text
 * that is safe on a terminal and in the journal, and the inverse of str_escape(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The length (1 to 4) of the valid UTF-8 sequence at s[0..len), 0 if there is none: overlong
 * forms, surrogates and code points above U+10FFFF are invalid. *cp gets the code point. */
size_t utf8_sequence_length(const unsigned char *s, size_t len, uint32_t *cp);

/* Whether buf[0..len) is exactly one JSON value, with optional whitespace around it. */
bool json_check(const char *buf, size_t len);

/* Decode buf[0..len), which must be exactly one JSON string literal (quotes included), into a new
 * buffer of bytes (UTF-8, caller frees; *ret_len excludes the NUL added). Returns 0, -EINVAL when
 * it is not a valid literal, -ENOMEM. */
int json_string_decode(const char *buf, size_t len, char **ret, size_t *ret_len);

/* s[0..len) with every byte that does not start a valid UTF-8 sequence replaced by U+FFFD, the
 * value json_put_string() promises to encode. Caller frees; NULL on -ENOMEM. */
char *utf8_replace_invalid(const char *s, size_t len, size_t *ret_len);

/* Whether s[0..len) is safe to show: valid UTF-8, no C0 control byte, no DEL, and no code point
 * that is a C1 control or reorders or hides text (bidirectional overrides and isolates,
 * zero-width characters, U+FEFF). */
bool text_is_safe(const char *s, size_t len);

/* The inverse of str_escape(): "\\" is a backslash, "\xNN" the byte NN, everything else itself.
 * Returns 0 with the bytes in *ret (caller frees) and *ret_len, -EINVAL when s holds any other
 * backslash sequence (so s cannot be what str_escape() made), -ENOMEM. */
int text_unescape(const char *s, char **ret, size_t *ret_len);
