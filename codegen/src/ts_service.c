/* A service in TypeScript: its descriptor (method ids, schema hashes, codecs)
 * and a client class whose methods call an RpcTransport. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comments.h"
#include "ts.h"

/* "GetOrder" -> "getOrder" (into `out`, at most `cap` bytes). */
static void method_key(char *out, size_t cap, const char *name) {
  snprintf(out, cap, "%s", name);
  out[0] = (char)tolower((unsigned char)out[0]);
}

static void emit_descriptor(const ts_ctx_t *ctx, const service_t *s) {
  buf_t *out = ctx->out;
  char key[256];
  comments_emit(out, s->comment);
  buf_line(out, "export const %s: pb.ServiceDescriptor & {", s->ts_name);
  out->indent++;
  buf_open(out, "readonly methods: {");
  for (size_t i = 0; i < s->method_count; i++) {
    const method_t *m = &s->methods[i];
    method_key(key, sizeof(key), m->name);
    buf_line(out, "readonly %s: pb.MethodDescriptor<%s, %s>;", key, ts_ref_message(ctx, m->input),
             ts_ref_message(ctx, m->output));
  }
  buf_close(out, "};");
  out->indent--;
  buf_open(out, "} = {");
  buf_line(out, "name: \"%s\",", s->full_name);
  buf_line(out, "fingerprint: \"%016" PRIx64 "\",", s->fingerprint);
  buf_line(out, "file: %s,", ts_descriptor_name(ctx, ctx->file));
  buf_open(out, "methods: {");
  for (size_t i = 0; i < s->method_count; i++) {
    const method_t *m = &s->methods[i];
    method_key(key, sizeof(key), m->name);
    buf_open(out, "%s: {", key);
    buf_line(out, "path: \"%s\",", m->path);
    buf_line(out, "id: 0x%08" PRIx32 ",", m->id);
    buf_line(out, "schemaHash: 0x%08" PRIx32 ",", m->schema_hash);
    buf_line(out, "kind: \"%s\",", method_kind_name(m));
    buf_line(out, "requestType: %s,", ts_ref_message(ctx, m->input));
    buf_line(out, "responseType: %s,", ts_ref_message(ctx, m->output));
    buf_close(out, "},");
  }
  buf_close(out, "},");
  buf_close(out, "};");
}

static void emit_client(const ts_ctx_t *ctx, const service_t *s) {
  buf_t *out = ctx->out;
  char key[256];
  buf_line(out, "/** Calls %s through an RpcTransport. */", s->full_name);
  buf_open(out, "export class %s {", s->ts_client_name);
  buf_line(out, "readonly transport: pb.RpcTransport;");
  buf_blank(out);
  buf_open(out, "constructor(transport: pb.RpcTransport) {");
  buf_line(out, "this.transport = transport;");
  buf_close(out, "}");
  for (size_t i = 0; i < s->method_count; i++) {
    const method_t *m = &s->methods[i];
    method_key(key, sizeof(key), m->name);
    const char *req = ts_ref_message(ctx, m->input);
    const char *res = ts_ref_message(ctx, m->output);
    buf_blank(out);
    comments_emit(out, m->comment);
    if (m->client_streaming && m->server_streaming) {
      buf_open(out, "%s(requests: pb.RequestSource<%s>, options?: pb.CallOptions): AsyncIterable<%s> {",
               key, req, res);
      buf_line(out, "return this.transport.bidiStreaming(%s.methods.%s, requests, options);",
               s->ts_name, key);
    } else if (m->client_streaming) {
      buf_open(out, "%s(requests: pb.RequestSource<%s>, options?: pb.CallOptions): Promise<%s> {",
               key, req, res);
      buf_line(out, "return this.transport.clientStreaming(%s.methods.%s, requests, options);",
               s->ts_name, key);
    } else if (m->server_streaming) {
      buf_open(out, "%s(request: pb.MessageInit<%s>, options?: pb.CallOptions): AsyncIterable<%s> {",
               key, req, res);
      buf_line(out, "return this.transport.serverStreaming(%s.methods.%s, request, options);",
               s->ts_name, key);
    } else {
      buf_open(out, "%s(request: pb.MessageInit<%s>, options?: pb.CallOptions): Promise<%s> {", key,
               req, res);
      buf_line(out, "return this.transport.unary(%s.methods.%s, request, options);", s->ts_name, key);
    }
    buf_close(out, "}");
  }
  buf_close(out, "}");
}

void ts_service_emit(const ts_ctx_t *ctx, const service_t *s) {
  emit_descriptor(ctx, s);
  buf_blank(ctx->out);
  emit_client(ctx, s);
}
