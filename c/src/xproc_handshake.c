/* The handshake's two messages (docs/PROTOCOL.md 9.2) and the socket calls
 * that carry them, descriptors included. Fields are little-endian; every
 * length is checked before use. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xproc_internal.h"

#define MAX_PASSED_FDS 2

static void put_u16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint16_t get_u16(const uint8_t *p) {
  uint16_t v;
  memcpy(&v, p, 2);
  return v;
}
static uint32_t get_u32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static bool all_zero(const uint8_t *p, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (p[i] != 0)
      return false;
  return true;
}

/* Magic and major version, common to both messages. */
static int check_preamble(const uint8_t *data, const char *what, char *why) {
  if (get_u32(data) != SHMRPC__XPROC_MAGIC)
    return shmrpc__xproc_fail(why, SHMRPC_EPROTO,
                              "%s does not start with the shmrpc magic", what);
  uint16_t major = get_u16(data + 4);
  if (major != SHMRPC__XPROC_VERSION_MAJOR)
    return shmrpc__xproc_fail(why, SHMRPC_EVERSION,
                              "%s speaks handshake version %u, this side %u",
                              what, major, SHMRPC__XPROC_VERSION_MAJOR);
  return 0;
}

void shmrpc__xproc_hello_encode(const shmrpc__xproc_hello_t *hello,
                                uint8_t out[SHMRPC__XPROC_HELLO_BYTES]) {
  memset(out, 0, SHMRPC__XPROC_HELLO_BYTES);
  put_u32(out, SHMRPC__XPROC_MAGIC);
  put_u16(out + 4, hello->version_major);
  put_u16(out + 6, hello->version_minor);
  put_u32(out + 8, hello->capacity_c2s);
  put_u32(out + 12, hello->capacity_s2c);
  /* 16-31: flags and reserved, zero in version 1.0 */
}

int shmrpc__xproc_hello_decode(const uint8_t *data, size_t len,
                               shmrpc__xproc_hello_t *out, char *why) {
  if (len != SHMRPC__XPROC_HELLO_BYTES)
    return shmrpc__xproc_fail(why, SHMRPC_EPROTO,
                              "hello of %zu bytes, expected %u", len,
                              SHMRPC__XPROC_HELLO_BYTES);
  int rc = check_preamble(data, "the client's hello", why);
  if (rc != 0)
    return rc;
  if (!all_zero(data + 16, 16))
    return shmrpc__xproc_fail(why, SHMRPC_EPROTO,
                              "hello has flags or reserved bytes set");
  out->version_major = get_u16(data + 4);
  out->version_minor = get_u16(data + 6);
  out->capacity_c2s = get_u32(data + 8);
  out->capacity_s2c = get_u32(data + 12);
  return 0;
}

size_t shmrpc__xproc_welcome_encode(
    const shmrpc__xproc_welcome_t *welcome,
    uint8_t out[SHMRPC__XPROC_WELCOME_MAX_BYTES]) {
  size_t message = strnlen(welcome->message, SHMRPC__XPROC_MESSAGE_MAX);
  memset(out, 0, SHMRPC__XPROC_WELCOME_HEADER_BYTES);
  put_u32(out, SHMRPC__XPROC_MAGIC);
  put_u16(out + 4, welcome->version_major);
  put_u16(out + 6, welcome->version_minor);
  put_u32(out + 8, (uint32_t)welcome->status);
  put_u32(out + 12, welcome->segment_bytes);
  put_u32(out + 16, welcome->capacity_c2s);
  put_u32(out + 20, welcome->capacity_s2c);
  put_u32(out + 24, welcome->server_pid);
  put_u32(out + 28, (uint32_t)message);
  memcpy(out + SHMRPC__XPROC_WELCOME_HEADER_BYTES, welcome->message, message);
  return SHMRPC__XPROC_WELCOME_HEADER_BYTES + message;
}

int shmrpc__xproc_welcome_decode(const uint8_t *data, size_t len,
                                 shmrpc__xproc_welcome_t *out, char *why) {
  if (len < SHMRPC__XPROC_WELCOME_HEADER_BYTES)
    return shmrpc__xproc_fail(why, SHMRPC_EPROTO,
                              "server answered with %zu bytes, too short", len);
  int rc = check_preamble(data, "the server's welcome", why);
  if (rc != 0)
    return rc;
  uint32_t message = get_u32(data + 28);
  if (message > SHMRPC__XPROC_MESSAGE_MAX ||
      len != SHMRPC__XPROC_WELCOME_HEADER_BYTES + message)
    return shmrpc__xproc_fail(why, SHMRPC_EPROTO,
                              "server's welcome has a bad message length");
  memset(out, 0, sizeof *out);
  out->version_major = get_u16(data + 4);
  out->version_minor = get_u16(data + 6);
  out->status = (int32_t)get_u32(data + 8);
  out->segment_bytes = get_u32(data + 12);
  out->capacity_c2s = get_u32(data + 16);
  out->capacity_s2c = get_u32(data + 20);
  out->server_pid = get_u32(data + 24);
  memcpy(out->message, data + SHMRPC__XPROC_WELCOME_HEADER_BYTES, message);
  /* Shown to people: keep printable ASCII only. */
  for (uint32_t i = 0; i < message; i++)
    if (out->message[i] < 0x20 || out->message[i] > 0x7e)
      out->message[i] = '?';
  return 0;
}

int shmrpc__xproc_send(int fd, const void *data, size_t len, const int *fds,
                       int nfds, char *why) {
  union {
    struct cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int) * MAX_PASSED_FDS)];
  } control;
  struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (nfds > 0) {
    memset(&control, 0, sizeof control);
    msg.msg_control = control.bytes;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
    memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * (size_t)nfds);
  }
  ssize_t n;
  do {
    n = sendmsg(fd, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    return shmrpc__xproc_sys_fail(why, "cannot send the handshake");
  return 0;
}

/* Takes the descriptors out of a received message's control data. Any
 * beyond `max_fds` are closed and make the message a protocol error. */
static int take_fds(struct msghdr *msg, int *fds, int max_fds, int *nfds) {
  bool extra = false;
  *nfds = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL;
       c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (*nfds < max_fds) {
        fds[(*nfds)++] = fd;
      } else {
        close(fd);
        extra = true;
      }
    }
  }
  return extra ? -1 : 0;
}

static void close_fds(int *fds, int *nfds) {
  for (int i = 0; i < *nfds; i++)
    close(fds[i]);
  *nfds = 0;
}

int shmrpc__xproc_recv(int fd, void *data, size_t cap, int *fds, int max_fds,
                       int *nfds, int timeout_ms, char *why) {
  *nfds = 0;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int ready;
  do {
    ready = poll(&p, 1, timeout_ms);
  } while (ready < 0 && errno == EINTR);
  if (ready < 0)
    return shmrpc__xproc_sys_fail(why, "poll");
  if (ready == 0)
    return shmrpc__xproc_fail(why, SHMRPC_ETIMEDOUT,
                              "no handshake message within %d ms", timeout_ms);
  union {
    struct cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int) * MAX_PASSED_FDS)];
  } control;
  struct iovec iov = {.iov_base = data, .iov_len = cap};
  struct msghdr msg = {.msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = control.bytes,
                       .msg_controllen = sizeof control.bytes};
  ssize_t n;
  int resets = 0;
  do {
    n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    /* A peer that closed with our message unread reports ECONNRESET once;
     * what it sent before closing may still be queued behind it. */
  } while (n < 0 && (errno == EINTR || (errno == ECONNRESET && resets++ == 0)));
  if (n < 0) {
    if (errno == ECONNRESET)
      return shmrpc__xproc_fail(why, SHMRPC_ECLOSED, "the peer hung up");
    return shmrpc__xproc_sys_fail(why, "cannot receive the handshake");
  }
  int extra = take_fds(&msg, fds, max_fds, nfds);
  if (n == 0) {
    close_fds(fds, nfds);
    return shmrpc__xproc_fail(why, SHMRPC_ECLOSED, "the peer hung up");
  }
  if (extra != 0 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
    close_fds(fds, nfds);
    return shmrpc__xproc_fail(why, SHMRPC_EPROTO,
                              "handshake message too long or with too many "
                              "descriptors");
  }
  return (int)n;
}
