/* The adaptive spin budget (c/include/shmrpc/wait.h, docs/PROTOCOL.md
 * section 4): pure arithmetic on the waits a waiter reports, so that tests
 * can feed it waits and check its decisions. */
#include "shmrpc/wait.h"

void shmrpc_spin_policy_init(shmrpc_spin_policy_t *policy, uint32_t max_ns,
                             bool fixed) {
  policy->max_ns = max_ns;
  policy->budget_ns = max_ns;
  policy->fixed = fixed;
  policy->caught = 0;
  policy->parked = 0;
}

void shmrpc_spin_policy_observe(shmrpc_spin_policy_t *policy, bool caught,
                                uint64_t waited_ns) {
  if (caught) {
    policy->caught++;
    return;
  }
  policy->parked++;
  if (policy->fixed)
    return;
  uint32_t max = policy->max_ns;
  uint32_t budget = policy->budget_ns;
  if (waited_ns <= max) {
    /* A longer spin would have caught it. */
    uint32_t grown = budget == 0 ? max / 4 : budget * 2;
    if (grown == 0 || grown > max || grown < budget)
      grown = max; /* tiny caps, and overflow */
    policy->budget_ns = grown;
  } else if (waited_ns > (uint64_t)max * SHMRPC_SPIN_IDLE_FACTOR) {
    /* The peer was idle, not slow: spinning for it was wasted. */
    budget /= 2;
    policy->budget_ns = budget < max / 16 ? 0 : budget;
  }
  /* Between the two the peer answers on the budget's scale (a wake-up
   * away, say): a spin catches it often enough, so the budget stays. */
}
