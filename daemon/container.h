/* container: the container (docker, containerd, CRI-O, podman) and the Kubernetes pod a process
 * belongs to, read from the text of its /proc/PID/cgroup. A pure function of the bytes. */
#pragma once

#include <stddef.h>

/* What the cgroup path of a process says about its container. Strings are empty when unknown.
 *
 * runtime: "docker", "containerd", "cri-o", "podman" (libpod), or "kubepods" when only the pod is
 *          known (id "") or when the path names a container of a pod but not its runtime (the
 *          cgroupfs driver's /kubepods/.../pod<uid>/<id>: id set).
 * id:      the container id: 64 lowercase hex digits (as found; shorter ids of >= 12 hex digits
 *          accepted).
 * pod:     Kubernetes pod uid, 8-4-4-4-12 lowercase hex with dashes ("_" in systemd slice names
 *          turned back into "-"), or the 32 lowercase hex digits of a static pod's uid (an MD5 the
 *          kubelet makes up for the pods of its manifest directory: kube-apiserver, etcd), or "". */
struct container_id {
        char runtime[16];
        char id[65];
        char pod[37];
};

/* Parse the contents of /proc/PID/cgroup (len bytes, not NUL-terminated, possibly truncated).
 * Returns 1 and fills *ret when a container or pod is found, 0 when the process is in no container
 * (*ret zeroed), -EBADMSG never for odd content: any bytes at all are fine input, unknown layouts
 * just give 0. Every byte of *ret is written: the strings are NUL-padded, and made of [0-9a-f-]
 * only (runtime of [a-z-]), so callers need no escaping.
 *
 * Each line is "hierarchy-ID:controllers:path" (cgroup v2 has the one line "0::path"); a line
 * without its newline was cut short and is ignored, since a cut path can name a shorter, wrong id.
 * When lines disagree (cgroup v1), a line naming a container beats one naming only a pod, then
 * the v2 line and the name=systemd, pids, memory and cpu lines beat the others, then the first
 * wins. Within a path the deepest container or pod wins: a process of a pod's container in a
 * kind node (itself a docker container) is in that pod's container, and a cgroup below a
 * container's (systemd in a container: docker-<id>.scope/init.scope) is still that container's.
 *
 * The container monitors (CRI-O's crio-conmon-<id>.scope, podman's libpod-conmon-<id>.scope and
 * the runtime/ cgroup of --cgroups=split) are not containers: a monitor in a pod's cgroup gives
 * the pod only, elsewhere it gives 0. Uppercase hex is refused, not lowered: no runtime writes it,
 * and lowering would turn a name that is not an id into one. */
int container_parse_cgroup(const char *buf, size_t len, struct container_id *ret);
