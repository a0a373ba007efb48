/* base64.h: standard base64 (RFC 4648 section 4, with padding), pure: no allocation, no locale. The
 * binding builds "Basic BASE64(api_key)" with it; the caller owns (and wipes) the buffer. */
#ifndef CODAT_BASE64_H
#define CODAT_BASE64_H

#include <stddef.h>

/* Characters codat_base64_encode writes for n input bytes, not counting the terminating NUL. */
size_t codat_base64_encoded_len(size_t n);
/* Writes the encoding of in[0..n) and a NUL to out, which holds codat_base64_encoded_len(n) + 1 bytes.
 * Returns the characters written (without the NUL). */
size_t codat_base64_encode(const unsigned char *in, size_t n, char *out);

#endif
