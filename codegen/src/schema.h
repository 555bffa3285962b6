/* The plugin's model of the .proto files in a CodeGeneratorRequest: every
 * file, message, enum and service with type references resolved, names for
 * each target language computed, and comments attached. Emitters read only
 * this model, never the raw descriptors. */
#ifndef CODEGEN_SCHEMA_H
#define CODEGEN_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* FieldDescriptorProto.Type numbers from descriptor.proto. */
typedef enum {
  TYPE_DOUBLE = 1,
  TYPE_FLOAT = 2,
  TYPE_INT64 = 3,
  TYPE_UINT64 = 4,
  TYPE_INT32 = 5,
  TYPE_FIXED64 = 6,
  TYPE_FIXED32 = 7,
  TYPE_BOOL = 8,
  TYPE_STRING = 9,
  TYPE_GROUP = 10,
  TYPE_MESSAGE = 11,
  TYPE_BYTES = 12,
  TYPE_UINT32 = 13,
  TYPE_ENUM = 14,
  TYPE_SFIXED32 = 15,
  TYPE_SFIXED64 = 16,
  TYPE_SINT32 = 17,
  TYPE_SINT64 = 18
} field_type_t;

typedef struct message_s message_t;
typedef struct enum_s enum_t;
typedef struct file_s file_t;

typedef struct {
  const char *name;      /* as written in the .proto: "price_cents" */
  const char *json_name; /* lowerCamelCase: "priceCents" */
  const char *path;      /* "shop.Order.price_cents": names the field in errors */
  int32_t number;
  field_type_t type;
  bool repeated;
  bool required;         /* proto2 `required` */
  bool map;              /* repeated entry message with map_entry set */
  bool explicit_presence; /* proto3 `optional`; every singular proto2 field */
  bool packed;           /* repeated scalar written packed (proto3 default, proto2 [packed]) */
  int oneof;             /* index into the owner's oneofs, -1 if none */
  const char *default_value; /* proto2 [default = ...] as protoc gives it, or NULL */
  message_t *message;    /* TYPE_MESSAGE and TYPE_GROUP (for maps, the entry) */
  enum_t *enumeration;   /* TYPE_ENUM */
  const char *comment;   /* leading comment or NULL */
} field_t;

typedef struct {
  const char *name;      /* "result" */
  const char *json_name; /* lowerCamelCase: "result" */
  size_t field_count;
  field_t **fields;      /* members, in declaration order */
  const char *comment;
} oneof_t;

struct message_s {
  const char *full_name; /* "shop.Order.Line" */
  const char *name;      /* "Line" */
  const char *ts_name;   /* "Order_Line" (final after ts_assign_names) */
  const char *c_name;    /* nanopb's: "shop_Order_Line" */
  const file_t *file;
  bool map_entry;
  size_t field_count;
  field_t *fields; /* declaration order */
  size_t oneof_count;
  oneof_t *oneofs; /* real oneofs only, without proto3 `optional`'s synthetic ones */
  size_t message_count;
  message_t *messages; /* nested */
  size_t enum_count;
  enum_t *enums; /* nested */
  const char *comment;
};

typedef struct {
  const char *name; /* "COLOR_RED" */
  int32_t number;
  const char *comment;
} enum_value_t;

struct enum_s {
  const char *full_name;
  const char *name;
  const char *ts_name;
  const char *c_name;
  const file_t *file;
  bool closed;      /* declared in a proto2 file: unknown numbers are unknown fields */
  size_t value_count;
  enum_value_t *values;
  const char *comment;
};

typedef struct {
  const char *name; /* "GetOrder" */
  const char *path; /* "shop.Orders/GetOrder" */
  message_t *input;
  message_t *output;
  bool client_streaming; /* a stream of requests */
  bool server_streaming; /* a stream of responses */
  uint32_t id;          /* fingerprint.h */
  uint32_t schema_hash; /* fingerprint.h */
  const char *comment;
} method_t;

/* The method's call kind as docs/PROTOCOL.md section 8 names it: "unary",
 * "server_streaming", "client_streaming" or "bidi_streaming". */
static inline const char *method_kind_name(const method_t *m) {
  if (m->client_streaming) return m->server_streaming ? "bidi_streaming" : "client_streaming";
  return m->server_streaming ? "server_streaming" : "unary";
}

typedef struct service_s {
  const char *full_name; /* "shop.Orders" */
  const char *name;      /* "Orders" */
  const char *ts_name;   /* TypeScript descriptor: "Orders" (ts_assign_names) */
  const char *ts_client_name; /* TypeScript client class: "OrdersClient" */
  const char *c_name;    /* "shop_Orders" */
  const file_t *file;
  size_t method_count;
  method_t *methods;
  uint64_t fingerprint; /* fingerprint.h */
  const char *comment;
} service_t;

struct file_s {
  const char *name;    /* "shop/order.proto", relative to its import root */
  /* protoc's FileDescriptorProto (in the request) for emitters that embed it. */
  const struct _google_protobuf_FileDescriptorProto *descriptor;
  const char *package; /* "shop", or "" */
  bool proto2;         /* syntax = "proto2" (or no syntax statement) */
  bool generate;       /* listed in file_to_generate */
  const char *ts_descriptor_name; /* its embedded descriptor: "file_shop_order" (ts_assign_names) */
  size_t dependency_count;
  const file_t **dependencies;
  size_t message_count;
  message_t *messages; /* top level */
  size_t enum_count;
  enum_t *enums; /* top level */
  size_t service_count;
  service_t *services;
};

typedef struct {
  arena_t arena;
  size_t file_count;
  file_t *files;        /* in protoc's order: dependencies first */
  size_t type_count;    /* entries in the type table */
  size_t type_capacity;
  struct schema_type *types; /* open-addressing table keyed by full name */
  const char *error;         /* the first error, for the response */
} schema_t;

typedef struct _google_protobuf_compiler_CodeGeneratorRequest
    google_protobuf_compiler_CodeGeneratorRequest;

/* Builds the model. On failure returns false and sets schema->error to a
 * message for protoc to show (a .proto the plugin cannot handle, e.g. a
 * client-streaming method or a method id collision). The request must
 * outlive the schema: names point into it. Release with schema_free(). */
bool schema_build(schema_t *schema, const google_protobuf_compiler_CodeGeneratorRequest *request);
void schema_free(schema_t *schema);

/* Records an error (the first one wins) and returns false. */
bool schema_fail(schema_t *schema, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when `field` is a scalar type whose repeated form may be packed. */
bool field_type_is_packable(field_type_t type);

/* A message value: a message field or a (proto2) group. */
static inline bool field_is_message(const field_t *f) {
  return f->type == TYPE_MESSAGE || f->type == TYPE_GROUP;
}

#endif
