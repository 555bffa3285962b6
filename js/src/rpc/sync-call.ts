/**
 * RpcClient.unarySync's receive loop: the calling thread sends its REQUEST,
 * publishes, and spins (then sleeps) in channel.receiveSync until the reply
 * arrives, handling every other message on the way. Timers and
 * AbortSignals cannot run meanwhile, so the loop checks the deadline
 * itself.
 */
import type { Message } from "../channel/frame.js";
import { isShmrpcError } from "../errors.js";
import type { CheckedOptions } from "./call-checks.js";
import type { Call } from "./call.js";
import type { CallRunner } from "./call-runner.js";
import { RpcError } from "./errors.js";
import type { ReplyRouter } from "./reply-router.js";
import { Status } from "./status.js";
import type { MessageInit, MethodDescriptor } from "./types.js";

/** How long the loop waits per receive while its request is still queued for ring space. */
const SYNC_SEND_POLL_MS = 1;

/**
 * Runs one unary call to its end on this thread and returns its response;
 * throws its RpcError, or a ShmrpcError EINVAL while anything else
 * consumes the channel.
 */
export function callSync(
  runner: CallRunner,
  router: ReplyRouter,
  method: MethodDescriptor<unknown, unknown>,
  request: MessageInit<unknown>,
  checked: CheckedOptions,
): unknown {
  const channel = runner.channel;
  // The receive loop reads the channel itself: pause the listener.
  runner.listening.pause(true);
  let call: Call;
  try {
    call = runner.issue(method, request, checked, undefined);
    while (call.phase !== "done") {
      // Nothing publishes in a microtask while this thread is busy here.
      channel.flush();
      const left = call.deadline === Infinity ? Infinity : call.deadline - performance.now();
      if (left <= 0) {
        runner.giveUp(call, new RpcError(Status.DEADLINE_EXCEEDED, "deadline exceeded", method.path));
        channel.flush();
        break;
      }
      // A request still waiting for a slot or for ring space needs this
      // loop to move it on: poll in short slices until it is in the ring.
      const slice = call.phase === "sent" && call.inRing ? left : Math.min(left, SYNC_SEND_POLL_MS);
      let message: Message | undefined;
      try {
        message = channel.receiveSync(slice === Infinity ? -1 : slice);
      } catch (error) {
        if (isShmrpcError(error, "EINVAL")) {
          runner.giveUp(call, new RpcError(Status.FAILED_PRECONDITION, error.message, method.path, { cause: error }));
          throw error;
        }
        runner.shutDown(`the channel ended: ${isShmrpcError(error) ? error.message : String(error)}`);
        break;
      }
      if (message) {
        router.route(message);
      } else if (!call.inRing) {
        channel.wake(); // writes sends that waited for ring space
        // Sends leave the queue in order: once it is empty, the request is in the ring.
        if (!channel.sendsPending) call.inRing = true;
      }
    }
  } finally {
    runner.listening.pause(false);
    runner.updateListening();
  }
  if (call.error) throw call.error;
  return call.response;
}
