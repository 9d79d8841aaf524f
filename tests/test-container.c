/* Unit tests of container: /proc/PID/cgroup of processes in docker, containerd, CRI-O and podman
 * containers and Kubernetes pods (cgroup v1 and v2, systemd and cgroupfs drivers), of host
 * processes, and of cut, damaged and hostile contents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "container.h"

#define ID1 "4f797c539e6c745de61a93ca3ff892358ecbcaccd8414d5db545c38428142970"
#define ID2 "9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d"
/* ID1 with one digit replaced: a 'g', an uppercase 'F', one digit more, one less. */
#define ID1_G     "4f797c539e6c745de61a93ca3ff892358ecbcaccd8414d5db545c38428142g70"
#define ID1_UPPER "4F797C539E6C745DE61A93CA3FF892358ECBCACCD8414D5DB545C38428142970"
#define ID1_LONG  ID1 "0"
#define ID1_SHORT "4f797c539e6"
#define POD       "8b2bd0a8-5a3c-4c1e-9f1a-0d2c6e7f8a9b"
#define POD_      "8b2bd0a8_5a3c_4c1e_9f1a_0d2c6e7f8a9b" /* as in a systemd slice name */
#define STATIC    "d41d8cd98f00b204e9800998ecf8427e"     /* a static pod's uid: 32 hex digits */
#define KUBE_BU   "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD_ ".slice"
#define KUBE_BE   "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" POD_ ".slice"

/* A cgroup v1 file as the kernel writes it: every hierarchy, path the same but in the ones that
 * runc's systemd driver leaves at the root. */
#define V1(path)                                                                                                       \
        "12:hugetlb:/\n11:pids:" path "\n10:net_cls,net_prio:/\n9:devices:" path "\n8:memory:" path "\n"               \
        "7:cpuset:/\n6:blkio:" path "\n5:perf_event:/\n4:freezer:" path "\n3:rdma:/\n2:cpu,cpuacct:" path "\n"         \
        "1:name=systemd:" path "\n0::/\n"

struct cgroup_case {
        const char *name;
        const char *in;
        size_t len;
        int r;
        const char *runtime, *id, *pod;
};

#define FOUND(n, s, rt, i, p)                                                                                          \
        { n, s, sizeof(s) - 1, 1, rt, i, p }
#define NONE(n, s)                                                                                                     \
        { n, s, sizeof(s) - 1, 0, "", "", "" }

static const struct cgroup_case cases[] = {
        /* docker */
        FOUND("docker systemd v2", "0::/system.slice/docker-" ID1 ".scope\n", "docker", ID1, ""),
        FOUND("docker systemd v1", V1("/system.slice/docker-" ID1 ".scope"), "docker", ID1, ""),
        FOUND("docker cgroupfs v1", V1("/docker/" ID1), "docker", ID1, ""),
        FOUND("docker cgroupfs v2", "0::/docker/" ID1 "\n", "docker", ID1, ""),
        FOUND("docker rootless", "0::/user.slice/user-1000.slice/user@1000.service/user.slice/docker-" ID1 ".scope\n",
              "docker", ID1, ""),
        FOUND("docker in docker", V1("/docker/" ID1 "/docker/" ID2), "docker", ID2, ""),
        FOUND("systemd in docker", "0::/system.slice/docker-" ID1 ".scope/init.scope\n", "docker", ID1, ""),
        FOUND("service in docker", "0::/system.slice/docker-" ID1 ".scope/system.slice/nginx.service\n", "docker", ID1,
              ""),
        FOUND("nested cgroupfs", "0::/docker/" ID1 "/app/worker\n", "docker", ID1, ""),
        FOUND("docker 12-digit id", "0::/docker/4f797c539e6c\n", "docker", "4f797c539e6c", ""),
        FOUND("docker zombie", "0::/system.slice/docker-" ID1 ".scope (deleted)\n", "docker", ID1, ""),
        FOUND("seen from a cgroup namespace", "0::/../../system.slice/docker-" ID1 ".scope\n", "docker", ID1, ""),
        FOUND("cri-dockerd", "0::" KUBE_BU "/docker-" ID1 ".scope\n", "docker", ID1, POD),

        /* containerd */
        FOUND("k8s containerd burstable", "0::" KUBE_BU "/cri-containerd-" ID1 ".scope\n", "containerd", ID1, POD),
        FOUND("k8s containerd besteffort v1", V1(KUBE_BE "/cri-containerd-" ID1 ".scope"), "containerd", ID1, POD),
        FOUND("k8s containerd guaranteed",
              "0::/kubepods.slice/kubepods-pod" POD_ ".slice/cri-containerd-" ID1 ".scope\n", "containerd", ID1, POD),
        FOUND("k8s static pod",
              "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" STATIC ".slice/cri-containerd-" ID1
              ".scope\n",
              "containerd", ID1, STATIC),
        FOUND("kind: a pod in a docker container",
              "0::/system.slice/docker-" ID1 ".scope/kubelet.slice/kubelet-kubepods.slice/"
              "kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" POD_ ".slice/cri-containerd-" ID2
              ".scope\n",
              "containerd", ID2, POD),
        FOUND("runc on cgroupfs, CRI on systemd", "0::/kubepods-burstable-pod" POD_ ".slice:cri-containerd:" ID1 "\n",
              "containerd", ID1, POD),
        FOUND("nerdctl systemd", "0::/system.slice/nerdctl-" ID1 ".scope\n", "containerd", ID1, ""),
        FOUND("ctr cgroupfs", V1("/default/" ID1), "containerd", ID1, ""),
        FOUND("nerdctl k8s.io namespace", "0::/k8s.io/" ID1 "\n", "containerd", ID1, ""),

        /* kubelet, cgroupfs driver: the runtime is not in the path */
        FOUND("k8s cgroupfs burstable v1", V1("/kubepods/burstable/pod" POD "/" ID1), "kubepods", ID1, POD),
        FOUND("k8s cgroupfs besteffort v2", "0::/kubepods/besteffort/pod" POD "/" ID1 "\n", "kubepods", ID1, POD),
        FOUND("k8s cgroupfs guaranteed", "0::/kubepods/pod" POD "/" ID1 "\n", "kubepods", ID1, POD),
        FOUND("k8s cgroupfs cgroup-root", "0::/kubelet/kubepods/pod" STATIC "/" ID1 "\n", "kubepods", ID1, STATIC),

        /* pod only: a process in the pod's cgroup, not a container's */
        FOUND("pod slice only", "0::" KUBE_BE "\n", "kubepods", "", POD),
        FOUND("pod dir only", V1("/kubepods/burstable/pod" POD), "kubepods", "", POD),
        FOUND("pod below a container", "0::/system.slice/docker-" ID1 ".scope/kubelet-kubepods-pod" POD_ ".slice\n",
              "kubepods", "", POD),

        /* CRI-O */
        FOUND("cri-o systemd", "0::" KUBE_BU "/crio-" ID1 ".scope\n", "cri-o", ID1, POD),
        FOUND("cri-o container subcgroup", "0::" KUBE_BU "/crio-" ID1 ".scope/container\n", "cri-o", ID1, POD),
        FOUND("cri-o cgroupfs", V1("/kubepods/besteffort/pod" POD "/crio-" ID1), "cri-o", ID1, POD),
        FOUND("cri-o conmon in the pod", "0::" KUBE_BU "/crio-conmon-" ID1 ".scope\n", "kubepods", "", POD),
        FOUND("cri-o conmon cgroupfs", "0::/kubepods/pod" POD "/crio-conmon-" ID1 "\n", "kubepods", "", POD),
        NONE("cri-o conmon on the host", "0::/system.slice/crio-conmon-" ID1 ".scope\n"),

        /* podman */
        FOUND("podman root", "0::/machine.slice/libpod-" ID1 ".scope\n", "podman", ID1, ""),
        FOUND("podman root v1", V1("/machine.slice/libpod-" ID1 ".scope"), "podman", ID1, ""),
        FOUND("podman rootless", "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID1 ".scope\n",
              "podman", ID1, ""),
        FOUND("podman container subcgroup", "0::/machine.slice/libpod-" ID1 ".scope/container\n", "podman", ID1, ""),
        FOUND("podman pod", "0::/machine.slice/machine-libpod_pod_" ID2 ".slice/libpod-" ID1 ".scope\n", "podman", ID1,
              ""),
        FOUND("podman cgroupfs", V1("/libpod_parent/libpod-" ID1), "podman", ID1, ""),
        FOUND("podman split (quadlet)", "0::/system.slice/web.service/libpod-payload-" ID1 "\n", "podman", ID1, ""),
        FOUND("podman split rootless",
              "0::/user.slice/user-1000.slice/user@1000.service/app.slice/web.service/libpod-payload-" ID1 "\n",
              "podman", ID1, ""),
        NONE("podman conmon", "0::/machine.slice/libpod-conmon-" ID1 ".scope\n"),
        NONE("podman conmon cgroupfs", "0::/libpod_parent/conmon\n"),
        NONE("podman split runtime", "0::/system.slice/web.service/runtime\n"),

        /* v1: the line to believe */
        FOUND("a container beats a pod", "4:cpuset:/kubepods/pod" POD "\n3:net_cls:/docker/" ID1 "\n", "docker", ID1,
              ""),
        FOUND("preferred hierarchy first", "5:net_cls:/docker/" ID1 "\n4:memory:/docker/" ID2 "\n", "docker", ID2, ""),
        FOUND("name=systemd preferred", "3:net_cls:/docker/" ID1 "\n1:name=systemd:/docker/" ID2 "\n", "docker", ID2,
              ""),
        FOUND("first of equals", "4:pids:/docker/" ID1 "\n0::/docker/" ID2 "\n", "docker", ID1, ""),
        FOUND("a colon in the path", "1:name=systemd:/a:b/docker/" ID1 "\n", "docker", ID1, ""),
        FOUND("a cut line after a good one", "0::/docker/" ID1 "\n1:name=systemd:/docker/" ID2, "docker", ID1, ""),

        /* the host */
        NONE("service", "0::/system.slice/nginx.service\n"),
        NONE("session", "0::/user.slice/user-1000.slice/session-3.scope\n"),
        NONE("user manager", "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome.slice\n"),
        NONE("init", "0::/init.scope\n"),
        NONE("root", "0::/\n"),
        NONE("v1 host", V1("/system.slice/sshd.service")),
        NONE("the runtimes themselves", "0::/system.slice/containerd.service\n0::/system.slice/docker.service\n"),
        NONE("kubelet", "0::/kubepods.slice\n"),
        NONE("qos slice", "0::/kubepods.slice/kubepods-burstable.slice\n"),
        NONE("nspawn machine", "0::/machine.slice/machine-web.scope\n"),
        NONE("empty", ""),

        /* cut short: the kernel ends every line with '\n' */
        NONE("cut in the id", "0::/docker/" ID1_SHORT),
        NONE("cut after the id", "0::/docker/" ID1),
        NONE("cut in the pod", "0::/kubepods/besteffort/pod" POD),
        NONE("cut v1", "12:hugetlb:/\n11:pids:/docker/4f797c"),

        /* ids and uids that are not */
        NONE("non-hex id", "0::/docker/" ID1_G "\n"),
        NONE("uppercase id", "0::/docker/" ID1_UPPER "\n"),
        NONE("uppercase scope id", "0::/system.slice/docker-" ID1_UPPER ".scope\n"),
        NONE("65 digits", "0::/docker/" ID1_LONG "\n"),
        NONE("11 digits", "0::/docker/" ID1_SHORT "\n"),
        NONE("docker- without .scope", "0::/system.slice/docker-" ID1 "\n"),
        NONE("cri-containerd- without .scope", "0::/cri-containerd-" ID1 "\n"),
        NONE("empty docker scope", "0::/system.slice/docker-.scope\n"),
        NONE("bare id elsewhere", "0::/system.slice/" ID1 "\n"),
        NONE("bare id at the root", "0::/" ID1 "\n"),
        NONE("unknown prefix", "0::/system.slice/lxc-" ID1 ".scope\n"),
        NONE("pod uid with dashes in a slice", "0::/kubepods.slice/kubepods-pod" POD ".slice\n"),
        NONE("pod uid with _ in a dir", "0::/kubepods/pod" POD_ "\n"),
        NONE("uppercase pod uid", "0::/kubepods/pod8B2BD0A8-5A3C-4C1E-9F1A-0D2C6E7F8A9B\n"),
        NONE("pod uid one short", "0::/kubepods/pod8b2bd0a8-5a3c-4c1e-9f1a-0d2c6e7f8a9\n"),
        NONE("pod uid dashes misplaced", "0::/kubepods/pod8b2bd0a85-a3c-4c1e-9f1a-0d2c6e7f8a9b\n"),
        NONE("pod not under kubepods", "0::/system.slice/pod" POD "\n"),
        NONE("pod under another qos", "0::/kubepods/guaranteed/pod" POD "\n"),
        NONE("slice not kubepods", "0::/notkubepods-pod" POD_ ".slice\n"),
        NONE("slice with no prefix", "0::/pod" POD_ ".slice\n"),

        /* damaged lines */
        NONE("no hierarchy id", ":name=systemd:/docker/" ID1 "\n"),
        NONE("letters in the hierarchy id", "x::/docker/" ID1 "\n"),
        NONE("one colon", "0:/docker/" ID1 "\n"),
        NONE("relative path", "0::docker/" ID1 "\n"),
        NONE("no path", "0::\n"),
        NONE("deleted, no path", "0:: (deleted)\n"),
        NONE("CRLF", "0::/docker/" ID1 "\r\n"),
        NONE("NUL in the id", "0::/docker/4f797c539e6c745de61a93ca3ff89"
                              "\0"
                              "358ecbcaccd8414d5db545c38428142970\n"),
        NONE("NUL after the id", "0::/docker/" ID1 "\0\n"),
        NONE("NUL before the newline of a scope", "0::/system.slice/docker-" ID1 ".scope\0\n"),
        FOUND("NUL in another line", "0::/sys\0tem\n1:name=systemd:/docker/" ID1 "\n", "docker", ID1, ""),
        NONE("newlines only", "\n\n\n"),
        NONE("slashes only", "0::////\n"),
        NONE("binary", "\xff\xfe\x00\x01:\x80:/\xc3\x28\n"),
};

/* Checks one result, and that every byte of *c was written: NUL after each string. */
static void check(const char *name, int r, const struct container_id *c, int want_r, const char *runtime,
                  const char *id, const char *pod) {
        const struct {
                const char *field;
                const char *got;
                size_t size;
                const char *want;
        } fields[] = {
                { "runtime", c->runtime, sizeof(c->runtime), runtime },
                { "id", c->id, sizeof(c->id), id },
                { "pod", c->pod, sizeof(c->pod), pod },
        };

        if (r != want_r)
                fail_msg("%s: returned %d, want %d", name, r, want_r);
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
                size_t n = strnlen(fields[i].got, fields[i].size);

                if (n == fields[i].size)
                        fail_msg("%s: %s not NUL-terminated", name, fields[i].field);
                if (strcmp(fields[i].got, fields[i].want) != 0)
                        fail_msg("%s: %s \"%s\", want \"%s\"", name, fields[i].field, fields[i].got, fields[i].want);
                for (size_t k = n; k < fields[i].size; k++)
                        if (fields[i].got[k] != '\0')
                                fail_msg("%s: %s byte %zu not written", name, fields[i].field, k);
        }
}

static void test_table(void **state) {
        (void) state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const struct cgroup_case *t = &cases[i];
                struct container_id c;
                int r;

                memset(&c, 0x5a, sizeof(c)); /* garbage the parser must overwrite */
                r = container_parse_cgroup(t->in, t->len, &c);
                check(t->name, r, &c, t->r, t->runtime, t->id, t->pod);
        }
}

/* Every cut of every case that finds something: never read past len, and a cut file gives the
 * result of its complete lines. Each cut is a copy of exactly its length, so valgrind and ASan see
 * a read past it. */
static void test_cuts(void **state) {
        (void) state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const struct cgroup_case *t = &cases[i];

                for (size_t cut = 0; cut < t->len; cut++) {
                        char *in = test_malloc(cut > 0 ? cut : 1);
                        struct container_id c, whole;
                        size_t lines = 0;
                        int r, want;

                        memcpy(in, t->in, cut);
                        r = container_parse_cgroup(in, cut, &c);
                        assert_true(r == 0 || r == 1);
                        /* The same bytes up to the last newline give the same answer. */
                        for (size_t k = 0; k < cut; k++)
                                if (in[k] == '\n')
                                        lines = k + 1;
                        want = container_parse_cgroup(in, lines, &whole);
                        if (r != want || memcmp(&c, &whole, sizeof(c)) != 0)
                                fail_msg("%s cut at %zu: not the result of its %zu complete bytes", t->name, cut,
                                         lines);
                        test_free(in);
                }
        }
}

/* Each byte value in place of one digit of a docker id: a match exactly for the lowercase hex
 * digits, and *ret zeroed otherwise. */
static void test_id_bytes(void **state) {
        (void) state;
        for (int b = 0; b < 256; b++) {
                char in[] = "0::/system.slice/docker-" ID1 ".scope\n";
                char want_id[] = ID1;
                size_t at = strlen("0::/system.slice/docker-") + 20;
                bool hex = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f');
                struct container_id c;
                int r;

                in[at] = (char) b;
                want_id[20] = (char) b;
                memset(&c, 0x5a, sizeof(c));
                r = container_parse_cgroup(in, sizeof(in) - 1, &c);
                if (hex)
                        check("id byte", r, &c, 1, "docker", want_id, "");
                else
                        check("id byte", r, &c, 0, "", "", "");
        }
}

/* The pod uid of a systemd slice, written with '_', comes back with '-'. */
static void test_pod_dashes(void **state) {
        static const char in[] = "0::" KUBE_BU "/cri-containerd-" ID1 ".scope\n";
        struct container_id c;

        (void) state;
        assert_int_equal(container_parse_cgroup(in, sizeof(in) - 1, &c), 1);
        assert_string_equal(c.pod, POD);
        assert_null(strchr(c.pod, '_'));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_cuts),
                cmocka_unit_test(test_id_bytes),
                cmocka_unit_test(test_pod_dashes),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
