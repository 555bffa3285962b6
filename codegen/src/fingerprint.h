/* Method ids, schema hashes and service fingerprints, exactly as
 * docs/PROTOCOL.md "Method ids and schema fingerprints" defines them. */
#ifndef CODEGEN_FINGERPRINT_H
#define CODEGEN_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "schema.h"

uint32_t fingerprint_fnv1a32(const char *data, size_t len);
uint64_t fingerprint_fnv1a64(const char *data, size_t len);

/* Appends the canonical schema text of a method (the bytes its schema hash
 * covers) to `out`. */
void fingerprint_method_schema(buf_t *out, const method_t *method);

/* Fills in the id and schema hash of every method and the service
 * fingerprint. Fails (schema_fail) when two methods of the request share an
 * id. */
bool fingerprint_service(schema_t *schema, service_t *service);

#endif
