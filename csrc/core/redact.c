/* redact.c: finding the secrets (redact_secrets.c) in an answer however it escaped them, and replacing
 * them. See redact.h for why the match reads escapes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "redact.h"

static const char MARK[] = "[REDACTED]";
#define MARK_LEN (sizeof MARK - 1)

/* ---- reading escapes ---- */

static long hex4(const unsigned char *p, const unsigned char *end)
{
    if (end - p < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = codat_hex_value(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static size_t utf8_encode(unsigned long cp, unsigned char out[4])
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp > 0x10FFFF)
        return 0;
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* JSON: \uXXXX (a surrogate pair as one character), \" \\ \/ \b \f \n \r \t. */
static size_t read_json_escape(const unsigned char *p, const unsigned char *end, unsigned char out[4],
                               size_t *used)
{
    if (end - p < 2)
        return 0;
    static const char simple_in[] = "\"\\/bfnrt";
    static const char simple_out[] = "\"\\/\b\f\n\r\t";
    const char *at = p[1] ? strchr(simple_in, p[1]) : NULL;
    if (at) {
        out[0] = (unsigned char)simple_out[at - simple_in];
        *used = 2;
        return 1;
    }
    if (p[1] != 'u')
        return 0;
    long cp = hex4(p + 2, end);
    if (cp < 0)
        return 0;
    *used = 6;
    if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 12 && p[6] == '\\' && p[7] == 'u') {
        long low = hex4(p + 8, end);
        if (low >= 0xDC00 && low <= 0xDFFF) {
            *used = 12;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
    }
    return utf8_encode((unsigned long)cp, out);
}

/* HTML: &#NN; &#xHH; and the named references a credential's characters may take. */
static size_t read_html_reference(const unsigned char *p, const unsigned char *end, unsigned char out[4],
                                  size_t *used)
{
    static const struct { const char *name; char ch; } named[] = {
        {"amp;", '&'}, {"quot;", '"'}, {"apos;", '\''}, {"lt;", '<'}, {"gt;", '>'}, {"plus;", '+'},
        {"sol;", '/'}, {"equals;", '='}, {"colon;", ':'}, {"lowbar;", '_'}, {"period;", '.'},
        {"excl;", '!'}, {"num;", '#'}, {"dollar;", '$'}, {"percnt;", '%'}, {"ast;", '*'},
        {"comma;", ','}, {"semi;", ';'}, {"quest;", '?'}, {"commat;", '@'}, {"bsol;", '\\'},
        {"hyphen;", '-'}, {"tilde;", '~'}, {"Hat;", '^'}, {"grave;", '`'}, {"verbar;", '|'},
        {"lpar;", '('}, {"rpar;", ')'}, {"lsqb;", '['}, {"rsqb;", ']'}, {"lcub;", '{'}, {"rcub;", '}'},
    };
    if (end - p < 3)
        return 0;
    if (p[1] == '#') {
        const unsigned char *q = p + 2;
        int base = 10;
        if (*q == 'x' || *q == 'X') {
            base = 16;
            q++;
        }
        unsigned long cp = 0;
        int digits = 0;
        while (q < end && digits < 8) {
            int d = codat_hex_value(*q);
            if (d < 0 || d >= base)
                break;
            cp = cp * (unsigned long)base + (unsigned long)d;
            digits++;
            q++;
        }
        if (digits == 0 || q >= end || *q != ';')
            return 0;
        *used = (size_t)(q + 1 - p);
        return utf8_encode(cp, out);
    }
    for (size_t i = 0; i < sizeof named / sizeof *named; i++) {
        size_t n = strlen(named[i].name);
        if ((size_t)(end - p - 1) >= n && memcmp(p + 1, named[i].name, n) == 0) {
            out[0] = (unsigned char)named[i].ch;
            *used = n + 1;
            return 1;
        }
    }
    return 0;
}

/* The bytes an escape at p stands for (0 when p starts no escape): JSON, percent-encoding or HTML. */
static size_t read_escape(const unsigned char *p, const unsigned char *end, unsigned char out[4], size_t *used)
{
    switch (*p) {
    case '\\':
        return read_json_escape(p, end, out, used);
    case '%':
        if (end - p >= 3 && codat_hex_value(p[1]) >= 0 && codat_hex_value(p[2]) >= 0) {
            out[0] = (unsigned char)(codat_hex_value(p[1]) * 16 + codat_hex_value(p[2]));
            *used = 3;
            return 1;
        }
        return 0;
    case '&':
        return read_html_reference(p, end, out, used);
    default:
        return 0;
    }
}

/* How many bytes of the secret the text at p spells, each character either literal or escaped, stopping
 * at the first that does not match; the span in *used. */
static size_t spells_prefix_at(const unsigned char *p, const unsigned char *end, const unsigned char *secret,
                               size_t secret_len, size_t *used)
{
    const unsigned char *start = p;
    size_t k = 0;
    while (k < secret_len && p < end) {
        unsigned char bytes[4];
        size_t unit_len = 0;
        size_t n = read_escape(p, end, bytes, &unit_len);
        if (n > 0 && n <= secret_len - k && memcmp(bytes, secret + k, n) == 0) {
            k += n;
            p += unit_len;
        } else if (*p == secret[k]) {
            k++;
            p++;
        } else {
            break;
        }
    }
    *used = (size_t)(p - start);
    return k;
}

/* Whether text at p spells the secret, each character either literal or escaped; the span in *used.
 * Greedy: an escape that spells the secret's next bytes is taken, else the byte is read literally. A
 * literal echo is found by codat_find_secret's plain search in any case. */
static int spells_at(const unsigned char *p, const unsigned char *end, const unsigned char *secret,
                     size_t secret_len, size_t *used)
{
    return spells_prefix_at(p, end, secret, secret_len, used) == secret_len;
}

/* How many bytes of the secret the text at p spells when it ends inside it (a text cut short), else 0. */
static size_t spells_until_end(const unsigned char *p, const unsigned char *end, const unsigned char *secret,
                               size_t secret_len)
{
    size_t used;
    size_t k = spells_prefix_at(p, end, secret, secret_len, &used);
    const unsigned char *q = p + used;
    if (k == secret_len || q >= end)
        return k;
    /* what is left may be an escape cut short */
    return (*q == '\\' || *q == '%' || *q == '&') && end - q < 12 ? k : 0;
}

/* Where each escape introducer next occurs, for positions asked in increasing order: each byte's search
 * resumes where it stopped, so a text full of one of them is still scanned once. */
typedef struct {
    const unsigned char *text;
    size_t len;
    size_t next[3];   /* position of the next occurrence, len when none; SIZE_MAX before the first search */
} introducers;

static const unsigned char INTRODUCERS[3] = {'\\', '%', '&'};

/* The position of the first introducer at or after pos, or in->len. */
static size_t next_introducer(introducers *in, size_t pos)
{
    size_t best = in->len;
    for (int k = 0; k < 3; k++) {
        if (in->next[k] == SIZE_MAX || (in->next[k] < pos && in->next[k] < in->len)) {
            const unsigned char *q = pos < in->len ? memchr(in->text + pos, INTRODUCERS[k], in->len - pos) : NULL;
            in->next[k] = q ? (size_t)(q - in->text) : in->len;
        }
        if (in->next[k] < best)
            best = in->next[k];
    }
    return best;
}

size_t codat_find_secret(const char *text, size_t len, const char *secret, size_t secret_len,
                         size_t *match_len)
{
    if (!text || secret_len == 0 || len == 0)
        return (size_t)-1;
    const unsigned char *t = (const unsigned char *)text, *end = t + len;
    const unsigned char *s = (const unsigned char *)secret;
    /* The literal spelling, with the C library's fast search. (spells_at's greedy reading could take an
     * escape-like part of a secret, one holding "%41", for an escape and miss it.) */
    const unsigned char *literal = memmem(t, len, s, secret_len);
    size_t best = literal ? (size_t)(literal - t) : (size_t)-1, best_len = secret_len;
    /* A match with an escape in it: before its first escape come at most secret_len - 1 literal bytes, so
     * it starts at most that far before an introducer. Only those windows are tried, so a text without
     * '\\', '%' or '&' costs no more than the literal search. */
    introducers in = {t, len, {SIZE_MAX, SIZE_MAX, SIZE_MAX}};
    size_t tried_below = 0; /* starts below this were tried already */
    for (size_t at = next_introducer(&in, 0); at < len && at < best; at = next_introducer(&in, at + 1)) {
        size_t from = at >= secret_len - 1 ? at - (secret_len - 1) : 0;
        if (from < tried_below)
            from = tried_below;
        for (size_t i = from; i <= at && i < best; i++) {
            unsigned char c = t[i];
            if (c != s[0] && c != '\\' && c != '%' && c != '&')
                continue;
            size_t used;
            if (spells_at(t + i, end, s, secret_len, &used)) {
                best = i;
                best_len = used;
                break;
            }
        }
        tried_below = at + 1;
    }
    if (best != (size_t)-1)
        *match_len = best_len;
    return best;
}

int codat_holds_secret(const char *text, size_t len, const codat_secrets *s)
{
    size_t m;
    for (size_t i = 0; i < s->n; i++)
        if (!s->covered[i] && codat_find_secret(text, len, s->items[i], s->lens[i], &m) != (size_t)-1)
            return 1;
    return 0;
}

/* One secret out of *text. Returns the replacements made. */
static size_t redact_one(char **text, size_t *len, const char *secret, size_t secret_len)
{
    size_t m;
    size_t at = codat_find_secret(*text, *len, secret, secret_len, &m);
    if (at == (size_t)-1)
        return 0;
    /* Every unit of a match spans at least the bytes it spells, so a match spans at least secret_len
     * bytes, and there are at most len / secret_len of them. */
    size_t cap = *len + 1 + (*len / secret_len + 1) * MARK_LEN;
    char *out = malloc(cap);
    size_t count = 0;
    if (!out) {
        /* Out of memory: overwrite in place, same length, so that nothing leaks. */
        while (at != (size_t)-1) {
            memset(*text + at, '*', m);
            count++;
            size_t from = at + m;
            size_t next = codat_find_secret(*text + from, *len - from, secret, secret_len, &m);
            at = next == (size_t)-1 ? next : from + next;
        }
        return count;
    }
    size_t o = 0, from = 0;
    while (at != (size_t)-1) {
        memcpy(out + o, *text + from, at - from);
        o += at - from;
        memcpy(out + o, MARK, MARK_LEN);
        o += MARK_LEN;
        count++;
        from = at + m;
        size_t next = codat_find_secret(*text + from, *len - from, secret, secret_len, &m);
        at = next == (size_t)-1 ? next : from + next;
    }
    memcpy(out + o, *text + from, *len - from);
    o += *len - from;
    out[o] = '\0';
    memset(*text, 0, *len);
    free(*text);
    /* Shrink to what is used: bodies can be megabytes. */
    char *fit = realloc(out, o + 1);
    *text = fit ? fit : out;
    *len = o;
    return count;
}

size_t codat_redact(char **text, size_t *len, const codat_secrets *s)
{
    size_t count = 0;
    if (!*text)
        return 0;
    /* Longest first, so that "Basic QVBJ..." becomes one mark rather than "Basic [REDACTED]". */
    int done[CODAT_MAX_SECRETS] = {0};
    for (size_t round = 0; round < s->n; round++) {
        size_t best = s->n;
        for (size_t i = 0; i < s->n; i++)
            if (!done[i] && (best == s->n || s->lens[i] > s->lens[best]))
                best = i;
        done[best] = 1;
        count += redact_one(text, len, s->items[best], s->lens[best]);
    }
    return count;
}

size_t codat_redact_cut_tail(char **text, size_t *len, const codat_secrets *s)
{
    if (!*text || *len == 0)
        return 0;
    const unsigned char *t = (const unsigned char *)*text, *end = t + *len;
    size_t cut = *len;
    for (size_t i = 0; i < s->n; i++) {
        /* an escape spells a byte in at most 12 bytes of text (a surrogate pair spells 4 in 12) */
        size_t window = s->lens[i] * 12;
        size_t from = *len > window ? *len - window : 0;
        for (size_t at = from; at < cut; at++) {
            size_t k = spells_until_end(t + at, end, (const unsigned char *)s->items[i], s->lens[i]);
            if (k >= 4 || (k > 0 && k == s->lens[i])) {
                cut = at;
                break;
            }
        }
    }
    if (cut == *len)
        return 0;
    char *out = malloc(cut + MARK_LEN + 1);
    if (!out) {
        memset(*text + cut, '*', *len - cut);
        return 1;
    }
    memcpy(out, *text, cut);
    memcpy(out + cut, MARK, MARK_LEN + 1);
    memset(*text, 0, *len);
    free(*text);
    *text = out;
    *len = cut + MARK_LEN;
    return 1;
}

/* Replaces one of cJSON's strings (allocated with cJSON's allocator) by its redacted copy. */
static size_t redact_cjson_string(char **str, int is_const, const codat_secrets *s)
{
    if (!*str || !codat_holds_secret(*str, strlen(*str), s))
        return 0;
    size_t len = strlen(*str);
    char *copy = malloc(len + 1);
    if (!copy) {
        if (is_const)
            return 0; /* cannot happen for a parsed value; nothing to write into */
        char *text = *str;
        size_t n = 0;
        for (size_t i = 0; i < s->n; i++) {
            size_t m, at, from = 0;
            while ((at = codat_find_secret(text + from, len - from, s->items[i], s->lens[i], &m)) != (size_t)-1) {
                memset(text + from + at, '*', m);
                from += at + m;
                n++;
            }
        }
        return n;
    }
    memcpy(copy, *str, len + 1);
    size_t n = codat_redact(&copy, &len, s);
    char *fresh = cJSON_malloc(len + 1);
    if (!fresh) {
        memset(copy, 0, len);
        free(copy);
        return 0;
    }
    memcpy(fresh, copy, len + 1);
    free(copy);
    if (!is_const) {
        memset(*str, 0, strlen(*str));
        cJSON_free(*str);
    }
    *str = fresh;
    return n;
}

size_t codat_redact_json(cJSON *item, const codat_secrets *s)
{
    size_t n = 0;
    if (!item || s->n == 0)
        return 0;
    for (cJSON *child = item->child; child; child = child->next) {
        if (child->string) {
            int is_const = (child->type & cJSON_StringIsConst) != 0;
            size_t k = redact_cjson_string(&child->string, is_const, s);
            if (k && is_const)
                child->type &= ~cJSON_StringIsConst; /* the key is ours now */
            n += k;
        }
        n += codat_redact_json(child, s);
    }
    if (cJSON_IsString(item))
        n += redact_cjson_string(&item->valuestring, 0, s);
    return n;
}
