/* container: the container and Kubernetes pod of a process, from its /proc/PID/cgroup.
 *
 * The runtimes name the cgroups of their containers, and that name is all this reads; nothing is
 * asked of a runtime's socket. The names, from the runtimes' sources (runc's systemd driver turns
 * a cgroupsPath "slice:prefix:id" into /slice/prefix-id.scope):
 *
 *   docker        /system.slice/docker-<id>.scope             systemd driver (rootless: under
 *                                                              user@UID.service/user.slice/)
 *                 /docker/<id>                                cgroupfs driver; nested: /docker/<id>/docker/<id>
 *   containerd    .../cri-containerd-<id>.scope               CRI plugin with SystemdCgroup = true
 *                 /system.slice/nerdctl-<id>.scope            nerdctl, systemd cgroup manager
 *                 /default/<id>, /k8s.io/<id>                 ctr and nerdctl, cgroupfs: /<namespace>/<id>
 *                 .../kubepods-...-pod<uid>.slice:cri-containerd:<id>
 *                                                              the CRI's systemd path taken literally by a
 *                                                              runc left on cgroupfs (a known misconfiguration)
 *   cri-o         .../crio-<id>.scope, .../pod<uid>/crio-<id>  systemd, cgroupfs
 *   podman        /machine.slice/libpod-<id>.scope            root; rootless under user@UID.service/user.slice/;
 *                                                              in a pod under machine-libpod_pod_<pod>.slice/
 *                 /libpod_parent/libpod-<id>                  cgroupfs
 *                 .../<unit>.service/libpod-payload-<id>      --cgroups=split (quadlet units)
 *   kubelet pods  /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid with _>.slice/
 *                 /kubepods/burstable/pod<uid>/<id>           cgroupfs: the runtime is not in the path
 *                 QoS besteffort alike; guaranteed pods have no QoS level (kubepods-pod<uid>.slice,
 *                 /kubepods/pod<uid>); a --cgroup-root adds a prefix (kind: kubelet-kubepods-...).
 *
 * Ids are 12 to 64 lowercase hex digits, pod uids 8-4-4-4-12 or 32 lowercase hex digits (static
 * pods); anything else is not a match, so the output holds no byte a caller must escape.
 *
 * Known weakness: the result is what the path claims, not a proof. Whoever may create cgroups
 * (root, a user in the subtree systemd delegates to user@UID.service) may name one docker-<hex>.scope.
 * Not recognised: a docker or nerdctl --cgroup-parent on cgroupfs, containerd namespaces other than
 * default and k8s.io, ids that are not hex (ctr lets one pick any name), rootless podman on cgroup
 * v1 (no cgroup of its own), and processes seen through a cgroup namespace that hides the
 * container's cgroup (the path is then "/" or below it). */
#include <stdbool.h>
#include <string.h>

#include "container.h"

#define ID_MIN   12
#define ID_MAX   64
#define UUID_LEN 36
#define MD5_LEN  32

/* A part of the input: never NUL-terminated. */
struct span {
        const char *p;
        size_t n;
};

/* The scopes and directories a runtime names after its containers: prefix, then the id, then
 * ".scope" (required when scope_only). */
static const struct {
        const char *prefix;
        const char *runtime;
        bool scope_only;
} container_names[] = {
        { "docker-", "docker", true },
        { "cri-containerd-", "containerd", true },
        { "nerdctl-", "containerd", true },
        { "crio-", "cri-o", false },    /* crio-conmon-<id> fails the hex test: the monitor */
        { "libpod-", "podman", false }, /* libpod-conmon-<id> likewise */
        { "libpod-payload-", "podman", false },
};

static bool span_is(struct span s, const char *lit) {
        size_t n = strlen(lit);

        return s.n == n && memcmp(s.p, lit, n) == 0;
}

static bool span_starts(struct span s, const char *lit) {
        size_t n = strlen(lit);

        return s.n >= n && memcmp(s.p, lit, n) == 0;
}

static bool span_ends(struct span s, const char *lit) {
        size_t n = strlen(lit);

        return s.n >= n && memcmp(s.p + s.n - n, lit, n) == 0;
}

static bool is_lower_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool is_id(struct span s) {
        if (s.n < ID_MIN || s.n > ID_MAX)
                return false;
        for (size_t i = 0; i < s.n; i++)
                if (!is_lower_hex(s.p[i]))
                        return false;
        return true;
}

/* A pod uid as the kubelet writes it into a cgroup name: 8-4-4-4-12 hex digits separated by sep
 * ('-' for cgroupfs, '_' for systemd, where '-' is the slice separator), or the 32 hex digits of a
 * static pod. Writes it to out with '-' separators, NUL-padded. */
static bool parse_pod_uid(struct span s, char sep, char out[UUID_LEN + 1]) {
        if (s.n != UUID_LEN && s.n != MD5_LEN)
                return false;
        for (size_t i = 0; i < s.n; i++) {
                bool dash = s.n == UUID_LEN && (i == 8 || i == 13 || i == 18 || i == 23);

                if (dash ? s.p[i] != sep : !is_lower_hex(s.p[i]))
                        return false;
        }
        memset(out, 0, UUID_LEN + 1);
        memcpy(out, s.p, s.n);
        if (s.n == UUID_LEN)
                out[8] = out[13] = out[18] = out[23] = '-';
        return true;
}

/* seg names a container: "<prefix><id>[.scope]". Returns the runtime and sets *id, or NULL. */
static const char *match_container(struct span seg, struct span *id) {
        for (size_t i = 0; i < sizeof(container_names) / sizeof(container_names[0]); i++) {
                size_t plen = strlen(container_names[i].prefix);
                struct span rest;

                if (!span_starts(seg, container_names[i].prefix))
                        continue;
                rest = (struct span){ seg.p + plen, seg.n - plen };
                if (span_ends(rest, ".scope"))
                        rest.n -= strlen(".scope");
                else if (container_names[i].scope_only)
                        continue;
                if (is_id(rest)) {
                        *id = rest;
                        return container_names[i].runtime;
                }
        }
        return NULL;
}

/* The kubelet's systemd name of a pod's slice: the cgroup name {kubepods, [qos], pod<uid>}, '-'
 * within a part escaped to '_', joined with '-' (cgroup_manager_linux.go, ToSystemd()), maybe
 * after a --cgroup-root's parts ("kubelet-kubepods-besteffort-pod<uid>.slice" in kind). */
static bool match_pod_slice(struct span seg, char pod[UUID_LEN + 1]) {
        struct span name = seg, uid;
        size_t dash;

        if (!span_ends(name, ".slice"))
                return false;
        name.n -= strlen(".slice");
        for (dash = name.n; dash > 0 && name.p[dash - 1] != '-'; dash--)
                ;
        if (dash == 0)
                return false;
        uid = (struct span){ name.p + dash, name.n - dash };
        name.n = dash - 1; /* the parents: "[root-]kubepods[-qos]" */
        if (!span_starts(uid, "pod"))
                return false;
        uid.p += 3;
        uid.n -= 3;
        if (span_ends(name, "-burstable"))
                name.n -= strlen("-burstable");
        else if (span_ends(name, "-besteffort"))
                name.n -= strlen("-besteffort");
        if (!span_is(name, "kubepods") && !span_ends(name, "-kubepods"))
                return false;
        return parse_pod_uid(uid, '_', pod);
}

/* The kubelet's cgroupfs name of a pod: pod<uid> below kubepods or kubepods/<qos>. */
static bool match_pod_dir(struct span seg, struct span parent, struct span grand, char pod[UUID_LEN + 1]) {
        struct span uid = seg;

        if (!span_starts(uid, "pod"))
                return false;
        uid.p += 3;
        uid.n -= 3;
        if (!span_is(parent, "kubepods") &&
            !((span_is(parent, "burstable") || span_is(parent, "besteffort")) && span_is(grand, "kubepods")))
                return false;
        return parse_pod_uid(uid, '-', pod);
}

static void set_container(struct container_id *c, const char *runtime, struct span id) {
        memset(c->runtime, 0, sizeof(c->runtime));
        memcpy(c->runtime, runtime, strlen(runtime));
        memset(c->id, 0, sizeof(c->id));
        memcpy(c->id, id.p, id.n); /* is_id(): at most ID_MAX */
}

static void set_pod(struct container_id *c, const char pod[UUID_LEN + 1]) {
        set_container(c, "kubepods", (struct span){ "", 0 });
        memcpy(c->pod, pod, sizeof(c->pod));
}

/* "<slice>:<prefix>:<id>": runc's systemd form of a cgroupsPath, made a directory name by its
 * cgroupfs driver. Sets the pod when the slice is a pod's. */
static bool match_systemd_path(struct span seg, struct container_id *c) {
        const char *c1 = memchr(seg.p, ':', seg.n), *c2;
        struct span slice, prefix, id;
        char pod[UUID_LEN + 1];

        if (!c1)
                return false;
        c2 = memchr(c1 + 1, ':', (size_t) (seg.p + seg.n - (c1 + 1)));
        if (!c2)
                return false;
        slice = (struct span){ seg.p, (size_t) (c1 - seg.p) };
        prefix = (struct span){ c1 + 1, (size_t) (c2 - (c1 + 1)) };
        id = (struct span){ c2 + 1, (size_t) (seg.p + seg.n - (c2 + 1)) };
        if (!is_id(id))
                return false;
        for (size_t i = 0; i < sizeof(container_names) / sizeof(container_names[0]); i++) {
                const char *p = container_names[i].prefix;

                if (prefix.n + 1 != strlen(p) || memcmp(prefix.p, p, prefix.n) != 0)
                        continue;
                if (match_pod_slice(slice, pod))
                        set_pod(c, pod);
                set_container(c, container_names[i].runtime, id);
                return true;
        }
        return false;
}

/* The container and pod of one cgroup path: its parts from the root down, the deepest match
 * winning. Leaves *c zeroed when nothing matches. */
static void scan_path(struct span path, struct container_id *c) {
        struct span parent = { "", 0 }, grand = { "", 0 };
        bool parent_is_pod = false;
        size_t i = 0;

        memset(c, 0, sizeof(*c));
        while (i < path.n) {
                struct span seg, id;
                const char *runtime;
                char pod[UUID_LEN + 1];
                bool is_pod = false;

                while (i < path.n && path.p[i] == '/')
                        i++;
                seg.p = path.p + i;
                while (i < path.n && path.p[i] != '/')
                        i++;
                seg.n = (size_t) (path.p + i - seg.p);
                if (seg.n == 0)
                        break;

                runtime = match_container(seg, &id);
                if (runtime)
                        set_container(c, runtime, id);
                else if (match_pod_slice(seg, pod) || match_pod_dir(seg, parent, grand, pod)) {
                        set_pod(c, pod);
                        is_pod = true;
                } else if (match_systemd_path(seg, c))
                        ;
                else if (is_id(seg)) {
                        /* A bare id: the cgroupfs drivers. Below a pod, docker or containerd,
                         * which the path does not say. */
                        if (parent_is_pod)
                                set_container(c, "kubepods", seg);
                        else if (span_is(parent, "docker"))
                                set_container(c, "docker", seg);
                        else if (span_is(parent, "default") || span_is(parent, "k8s.io"))
                                set_container(c, "containerd", seg);
                }
                grand = parent;
                parent = seg;
                parent_is_pod = is_pod;
        }
}

/* The v2 line and the v1 hierarchies a runtime always puts its containers in (runc's systemd
 * driver on v1 leaves some controllers at the root when it has no limit to set for them). */
static bool preferred_controllers(struct span ctl) {
        size_t i = 0;

        if (ctl.n == 0)
                return true;
        while (i < ctl.n) {
                struct span tok = { ctl.p + i, 0 };

                while (i < ctl.n && ctl.p[i] != ',')
                        i++;
                tok.n = (size_t) (ctl.p + i - tok.p);
                i++;
                if (span_is(tok, "name=systemd") || span_is(tok, "pids") || span_is(tok, "memory") ||
                    span_is(tok, "cpu"))
                        return true;
        }
        return false;
}

/* One line "hierarchy-ID:controllers:path" (without its newline): its path and controllers. A path
 * may hold ':' itself. */
static bool split_line(struct span line, struct span *ctl, struct span *path) {
        const char *c1 = memchr(line.p, ':', line.n), *c2;
        const char *end = line.p + line.n;

        if (!c1 || c1 == line.p)
                return false;
        for (const char *d = line.p; d < c1; d++)
                if (*d < '0' || *d > '9')
                        return false;
        c2 = memchr(c1 + 1, ':', (size_t) (end - (c1 + 1)));
        if (!c2 || c2 + 1 == end || c2[1] != '/')
                return false;
        *ctl = (struct span){ c1 + 1, (size_t) (c2 - (c1 + 1)) };
        *path = (struct span){ c2 + 1, (size_t) (end - (c2 + 1)) };
        /* cgroup v2 marks the cgroup of a zombie that was removed (proc_cgroup_show()): the
         * process was still in that container. */
        if (span_ends(*path, " (deleted)"))
                path->n -= strlen(" (deleted)");
        return true;
}

int container_parse_cgroup(const char *buf, size_t len, struct container_id *ret) {
        struct container_id best, c;
        int best_rank = -1;
        size_t pos = 0;

        memset(&best, 0, sizeof(best));
        while (pos < len) {
                const char *nl = memchr(buf + pos, '\n', len - pos);
                struct span line, ctl, path;
                int rank;

                if (!nl)
                        break; /* cut short: see the header */
                line = (struct span){ buf + pos, (size_t) (nl - (buf + pos)) };
                pos += line.n + 1;
                if (!split_line(line, &ctl, &path))
                        continue;
                scan_path(path, &c);
                if (c.runtime[0] == '\0')
                        continue;
                rank = (c.id[0] != '\0' ? 2 : 0) + (preferred_controllers(ctl) ? 1 : 0);
                if (rank > best_rank) {
                        best = c;
                        best_rank = rank;
                }
        }
        *ret = best;
        return best_rank >= 0 ? 1 : 0;
}
