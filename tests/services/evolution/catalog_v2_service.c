/* The C service of tests/services/evolution/v2/catalog.proto, for
 * tests/js/schema-evolution.test.ts: replies say what the server decoded,
 * so the test sees what crossed between two versions of one schema. */
#include <inttypes.h>

#include "stored.h"

static int get(shmrpc_call_t *call, const evolution_ItemRequest *req,
               evolution_Item *res) {
  (void)call;
  res->name = strdup(req->name != NULL ? req->name : "");
  res->quantity = 7;
  res->kind = evolution_Kind_MUSIC;
  res->tags = calloc(1, sizeof(*res->tags));
  if (res->name == NULL || res->tags == NULL || (res->tags[0] = strdup("new")) == NULL)
    return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  res->tags_count = 1;
  return SHMRPC_STATUS_OK;
}

static int put(shmrpc_call_t *call, const evolution_Item *req,
               evolution_Stored *res) {
  (void)call;
  return stored_printf(res, "name=%s quantity=%" PRId32 " kind=%d tags=%u",
              req->name != NULL ? req->name : "", req->quantity, (int)req->kind,
              (unsigned)req->tags_count);
}

static int annotate(shmrpc_call_t *call, const evolution_Note *req,
                    evolution_Stored *res) {
  (void)call;
  return stored_printf(res, "body=%s", req->body != NULL ? req->body : "");
}

static int stamp(shmrpc_call_t *call, const evolution_ItemRequest *req,
                 evolution_Note *res) {
  (void)call;
  (void)req;
  res->body = strdup("stamped");
  return res->body != NULL ? SHMRPC_STATUS_OK : SHMRPC_STATUS_RESOURCE_EXHAUSTED;
}

static int lookup(shmrpc_call_t *call, const evolution_Query *req,
                  evolution_Item *res) {
  (void)call;
  res->name = strdup(req->prefix != NULL ? req->prefix : "");
  return res->name != NULL ? SHMRPC_STATUS_OK : SHMRPC_STATUS_RESOURCE_EXHAUSTED;
}

static int remove_item(shmrpc_call_t *call, const evolution_ItemRequest *req,
                       evolution_Stored *res) {
  (void)call;
  return stored_printf(res, "removed=%s", req->name != NULL ? req->name : "");
}

static const evolution_Catalog_handlers_t handlers = {
    .Get = get,
    .Put = put,
    .Annotate = annotate,
    .Stamp = stamp,
    .Lookup = lookup,
    .Watch = get,
    .Remove = remove_item,
};

SHMRPC_SERVICE_LIBRARY(&evolution_Catalog_service, &handlers, NULL)
