/* The adaptive spin budget (c/include/shmrpc/wait.h, docs/PROTOCOL.md
 * section 4): pure arithmetic on the waits a waiter reports, so that tests
 * can feed it waits and check its decisions (tests/vectors/spin/policy.txt,
 * the table TypeScript's SpinPolicy passes too). */
#include "shmrpc/wait.h"

void shmrpc_spin_policy_init(shmrpc_spin_policy_t *policy, uint32_t max_ns,
                             bool fixed) {
  policy->max_ns = max_ns;
  policy->budget_ns = max_ns;
  policy->fixed = fixed;
  policy->probing = false;
  policy->near = 0;
  policy->probe_after = SHMRPC_SPIN_PROBE_AFTER;
  policy->last_end_ns = 0;
  policy->caught = 0;
  policy->parked = 0;
  policy->probes = 0;
}

/* How long a probe spins: SHMRPC_SPIN_IDLE_FACTOR caps, long enough to
 * cover the peer's wake-up and answer (rule 6). */
static uint32_t probe_ns(uint32_t max) {
  uint64_t ns = (uint64_t)max * SHMRPC_SPIN_IDLE_FACTOR;
  return ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

uint32_t shmrpc_spin_policy_begin(shmrpc_spin_policy_t *policy) {
  policy->probing = !policy->fixed && policy->max_ns != 0 &&
                    policy->near >= policy->probe_after;
  return policy->probing ? probe_ns(policy->max_ns) : policy->budget_ns;
}

void shmrpc_spin_policy_observe(shmrpc_spin_policy_t *policy, bool caught,
                                uint64_t waited_ns, uint64_t ended_ns) {
  bool probe = policy->probing;
  policy->probing = false;
  if (probe)
    policy->probes++;
  uint64_t last_end = policy->last_end_ns;
  /* A wait that ended spinning read no clock: the next one's period is
   * its own length (the exchange was busy, so the gap was short). */
  policy->last_end_ns = caught ? 0 : ended_ns;
  uint32_t max = policy->max_ns;
  if (caught) {
    policy->caught++;
    policy->near = 0;
    policy->probe_after = SHMRPC_SPIN_PROBE_AFTER;
    if (probe && !policy->fixed)
      policy->budget_ns = max; /* the peer is within a spin's reach again */
    return;
  }
  policy->parked++;
  if (probe && policy->probe_after < SHMRPC_SPIN_PROBE_AFTER_MAX)
    policy->probe_after *= 2; /* spinning does not reach the peer now */
  uint64_t idle = (uint64_t)max * SHMRPC_SPIN_IDLE_FACTOR;
  uint64_t period =
      last_end != 0 && ended_ns > last_end ? ended_ns - last_end : waited_ns;
  if (period < waited_ns)
    period = waited_ns;
  /* Rule 6's count: waits a wake-up long in a busy exchange, in a row. */
  bool near = !probe && waited_ns > max && period <= idle;
  policy->near = near ? policy->near + 1 : 0;
  if (policy->fixed)
    return;
  uint32_t budget = policy->budget_ns;
  if (period > idle) {
    /* The exchange is idle (a caller at a UI's rate): spinning for it
     * was wasted, and so would the next spin be. */
    budget /= 2;
    policy->budget_ns = budget < max / 16 ? 0 : budget;
  } else if (waited_ns <= max) {
    /* A longer spin would have caught it. */
    uint32_t grown = budget == 0 ? max / 4 : budget * 2;
    if (grown == 0 || grown > max || grown < budget)
      grown = max; /* tiny caps, and overflow */
    policy->budget_ns = grown;
  }
  /* Between the two the peer answers a wake-up away in a busy exchange:
   * a spin catches it often enough, so the budget stays (and rule 6
   * counts the wait). */
}
