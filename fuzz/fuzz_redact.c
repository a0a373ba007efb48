/* fuzz_redact.c: libFuzzer target for the redactor (csrc/core/redact.c).
 *
 * Input layout:
 *   byte 0     n: the Authorization value is the next n % 64 bytes (NUL-terminated copy), also read as a
 *              proxy URL whose userinfo is a secret
 *   the rest   the text an answer brought, handed over in an exactly-sized heap buffer (plus the NUL that
 *              codat_redact's contract asks for), so ASan sees any read past it
 * Invariants checked (abort on violation), for secrets that cannot be completed by the mark itself (no '['
 * or ']', and not found inside "[REDACTED]"):
 *   - after codat_redact, codat_holds_secret finds none of them in the text, however escaped;
 *   - the text shrinks or grows only by what the marks account for (len <= in_len + marks * mark length);
 *   - when the text parses as JSON, after codat_redact_json no string of it (key or value) holds one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "redact.h"

static const char MARK[] = "[REDACTED]";

static int mark_completes(const codat_secrets *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (memchr(s->items[i], '[', s->lens[i]) || memchr(s->items[i], ']', s->lens[i]))
            return 1;
        size_t m;
        if (codat_find_secret(MARK, sizeof MARK - 1, s->items[i], s->lens[i], &m) != (size_t)-1)
            return 1;
    }
    return 0;
}

static void check_strings(const cJSON *item, const codat_secrets *s)
{
    for (const cJSON *child = item->child; child; child = child->next) {
        if (child->string && codat_holds_secret(child->string, strlen(child->string), s))
            abort();
        check_strings(child, s);
    }
    if (cJSON_IsString(item) && codat_holds_secret(item->valuestring, strlen(item->valuestring), s))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t n = data[0] % 64;
    if (n > size - 1)
        n = size - 1;
    char *auth = malloc(n + 1);
    if (!auth)
        return 0;
    memcpy(auth, data + 1, n);
    auth[n] = '\0';
    codat_secrets s;
    codat_secrets_init(&s);
    codat_secrets_add_authorization(&s, auth, strlen(auth));
    codat_secrets_add_url_userinfo(&s, auth); /* the same bytes read as a proxy URL */
    free(auth);

    size_t len = size - 1 - n;
    char *text = malloc(len + 1);
    if (!text) {
        codat_secrets_free(&s);
        return 0;
    }
    memcpy(text, data + 1 + n, len);
    text[len] = '\0';
    int checkable = !mark_completes(&s);

    cJSON *json = cJSON_ParseWithLength(text, len);
    size_t in_len = len;
    size_t marks = codat_redact(&text, &len, &s);
    if (len > in_len + marks * (sizeof MARK - 1))
        abort();
    if (text[len] != '\0')
        abort();
    if (checkable && codat_holds_secret(text, len, &s))
        abort();
    if (json) {
        codat_redact_json(json, &s);
        if (checkable)
            check_strings(json, &s);
        cJSON_Delete(json);
    }
    free(text);
    codat_secrets_free(&s);
    return 0;
}
