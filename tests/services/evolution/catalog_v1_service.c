/* The C service of tests/services/evolution/v1/catalog.proto, for
 * tests/js/schema-evolution.test.ts: replies say what the server decoded,
 * so the test sees what crossed between two versions of one schema. */
#include <inttypes.h>

#include "stored.h"

static int get(shmrpc_call_t *call, const evolution_ItemRequest *req,
               evolution_Item *res) {
  (void)call;
  res->name = strdup(req->name != NULL ? req->name : "");
  res->count = 7;
  res->kind = evolution_Kind_BOOK;
  res->legacy_code = 99;
  return res->name != NULL ? SHMRPC_STATUS_OK : SHMRPC_STATUS_RESOURCE_EXHAUSTED;
}

static int put(shmrpc_call_t *call, const evolution_Item *req,
               evolution_Stored *res) {
  (void)call;
  return stored_printf(res, "name=%s count=%" PRId32 " kind=%d legacy_code=%" PRId64,
              req->name != NULL ? req->name : "", req->count, (int)req->kind,
              req->legacy_code);
}

static int annotate(shmrpc_call_t *call, const evolution_Note *req,
                    evolution_Stored *res) {
  (void)call;
  return stored_printf(res, "body=%" PRId64, req->body);
}

static int stamp(shmrpc_call_t *call, const evolution_ItemRequest *req,
                 evolution_Note *res) {
  (void)call;
  (void)req;
  res->body = 42;
  return SHMRPC_STATUS_OK;
}

static int watch(shmrpc_call_t *call, const evolution_ItemRequest *req) {
  evolution_Item item = {.name = (char *)req->name, .count = 1};
  return evolution_Catalog_Watch_write(call, &item);
}

static const evolution_Catalog_handlers_t handlers = {
    .Get = get,
    .Put = put,
    .Annotate = annotate,
    .Stamp = stamp,
    .Lookup = get,
    .Watch = watch,
};

SHMRPC_SERVICE_LIBRARY(&evolution_Catalog_service, &handlers, NULL)
