/*
 * rts_record.h -- reading the agent's control records (one JSON object per
 * SOCK_SEQPACKET record, docs/internals.md "Transport").  Shared by the
 * header-only API rtsock_emul.h and the preload shim; both need only the
 * record's kind and its integer fields, so no JSON library is pulled in.
 */
#ifndef RTS_RECORD_H
#define RTS_RECORD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The integer after "key": in a record; def if absent or null. */
static inline long rts_json_int_(const char *rec, const char *key, long def)
{
	char pat[64];
	const char *p;

	(void) snprintf(pat, sizeof (pat), "\"%s\":", key);
	if ((p = strstr(rec, pat)) == NULL)
		return (def);
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p != '-' && (*p < '0' || *p > '9'))
		return (def);
	return (strtol(p, NULL, 10));
}

/* Whether the record is of kind op ("op": "<op>"). */
static inline int rts_is_op_(const char *rec, const char *op)
{
	char want[64];

	(void) snprintf(want, sizeof (want), "\"op\": \"%s\"", op);
	return (strstr(rec, want) != NULL);
}

#endif /* RTS_RECORD_H */
