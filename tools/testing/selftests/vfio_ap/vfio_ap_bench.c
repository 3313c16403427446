// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_ap_bench - the workloads of `make bench`, run inside the lab VM
 * against whichever vfio_ap module is loaded (ours or the reference).
 *
 * Each timing brackets one write() or ioctl() with CLOCK_MONOTONIC; the
 * file is opened before and closed after, so only the driver's work (and
 * the syscall) is inside.  Output, one record per line, for the lab's
 * bench.sh to tabulate:
 *
 *   time <metric> <ns>
 *   size <metric> <bytes>
 *   count <action> <guest> <seen> <expected>
 *   check <name> ok|FAIL <detail>
 *
 * "count" records are CRYCB updates of an attached guest, counted in the
 * guest's own s390dbf log (KVM writes one "SET CRYCB: apm" or "CLR CRYCB"
 * entry per update).  The expected value follows the contract (abi.md 5):
 * 0 when the guest's view does not change, 1 when it does.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "vfio_ap_kvm.h"
#include "vfio_ap_util.h"

/* The host of every workload: 256 queues, all reserved for vfio_ap. */
#define BENCH_CONFIG	"adapters=0-15 domains=0-15 control_domains=0-15"
#define BENCH_MDEVS	64
#define DBF_DIR		"/sys/kernel/debug/s390dbf"
#define CB_TIME_FILE	"/sys/kernel/debug/ap_bus_lab_vfio_ap_time"

static int failures;

static void bench_uuid(unsigned int i, char *out)
{
	sprintf(out, "00000000-0000-4000-8000-%012x", i);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void report(const char *name, bool ok, const char *detail)
{
	printf("check %s %s %s\n", name, ok ? "ok" : "FAIL", detail);
	if (!ok)
		failures++;
}

static void die(const char *what, int err)
{
	printf("check %s FAIL %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* One write() of @val to @path, timed; the time in ns or -errno. */
static int64_t timed_write(const char *path, const char *val)
{
	uint64_t t0, t1;
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	t0 = now_ns();
	n = write(fd, val, strlen(val));
	t1 = now_ns();
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? n : (int64_t)(t1 - t0);
}

static int64_t timed_mdev_write(const char *uuid, const char *attr,
				const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), MATRIX_DIR "/%s/%s", uuid, attr);
	return timed_write(path, val);
}

/* Sum of @n writes "<id>" of ids @first.. to @attr of @uuid. */
static int64_t timed_id_writes(const char *uuid, const char *attr,
			       unsigned int first, unsigned int n)
{
	int64_t sum = 0, t;
	char val[16];
	unsigned int i;

	for (i = first; i < first + n; i++) {
		snprintf(val, sizeof(val), "0x%x", i);
		t = timed_mdev_write(uuid, attr, val);
		if (t < 0)
			die(attr, t);
		sum += t;
	}
	return sum;
}

static void world(void)
{
	int rc = world_reset(BENCH_CONFIG, MASK_NONE, MASK_ALL);

	if (rc)
		die("world_reset", rc);
}

static void matrix_ids(struct ap_mask *m, unsigned int first,
		       unsigned int last)
{
	unsigned int i;

	for (i = first; i <= last; i++)
		mask_set(m, i);
}

/* Create mdev @uuid holding @mx, in one ap_config write. */
static void mdev_with(const char *uuid, const struct ap_matrix *mx)
{
	char cfg[256];
	int rc;

	rc = mdev_create(uuid);
	if (!rc && mx) {
		matrix_fmt_config(mx, cfg);
		rc = mdev_write(uuid, "ap_config", cfg);
	}
	if (rc)
		die("create mdev", rc);
}

/*
 * 256 adapters, then 256 domains, assigned and unassigned one write at a
 * time into mdev A while four other mdevs hold large disjoint matrices,
 * so that every write has conflicts to rule out.
 */
static void bench_assign(void)
{
	char a[40], uuid[40];
	struct ap_matrix mx;
	unsigned int i;

	world();
	for (i = 0; i < 4; i++) {
		memset(&mx, 0, sizeof(mx));
		matrix_ids(&mx.apm, 64 * i + 1, 64 * i + 63);
		matrix_ids(&mx.aqm, 1, 255);
		bench_uuid(100 + i, uuid);
		mdev_with(uuid, &mx);
	}
	bench_uuid(1, a);
	mdev_with(a, NULL);

	if (mdev_assign(a, "assign_domain", 0))
		die("assign_domain 0", errno);
	printf("time assign_adapter_x256 %lld\n",
	       (long long)timed_id_writes(a, "assign_adapter", 0, 256));
	printf("time unassign_adapter_x256 %lld\n",
	       (long long)timed_id_writes(a, "unassign_adapter", 0, 256));
	if (mdev_write(a, "unassign_domain", "0") ||
	    mdev_write(a, "assign_adapter", "0"))
		die("swap adapter and domain", errno);
	printf("time assign_domain_x256 %lld\n",
	       (long long)timed_id_writes(a, "assign_domain", 0, 256));
	printf("time unassign_domain_x256 %lld\n",
	       (long long)timed_id_writes(a, "unassign_domain", 0, 256));
}

/* One ap_config write to the full matrix and one back to nothing. */
static void bench_ap_config(void)
{
	char a[40], cfg[256];
	struct ap_matrix mx;
	int64_t t;

	world();
	bench_uuid(1, a);
	mdev_with(a, NULL);
	memset(&mx, 0xff, sizeof(mx));
	matrix_fmt_config(&mx, cfg);
	t = timed_mdev_write(a, "ap_config", cfg);
	if (t < 0)
		die("ap_config full", t);
	printf("time ap_config_full %lld\n", (long long)t);
	t = timed_mdev_write(a, "ap_config", CONFIG_NONE);
	if (t < 0)
		die("ap_config empty", t);
	printf("time ap_config_empty %lld\n", (long long)t);
}

/*
 * The driver's time in its AP bus callbacks since the last call; with a
 * @metric, each callback's share is reported too.
 */
static int64_t callback_ns(const char *metric)
{
	char buf[512], name[32];
	long long calls, ns, sum = 0;
	char *line, *save;
	ssize_t n;

	n = sysfs_read(CB_TIME_FILE, buf, sizeof(buf));
	if (n < 0)
		die("read " CB_TIME_FILE, n);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "%31s %lld %lld", name, &calls, &ns) == 3) {
			sum += ns;
			if (metric)
				printf("time %s_cb_%s %lld\n", metric, name, ns);
		}
	if (sysfs_write(CB_TIME_FILE, "0"))
		die("zero " CB_TIME_FILE, errno);
	return sum;
}

/* Time, the driver's own share of it, and the resets the change cost. */
static void host_change(const char *file, const char *id, const char *metric)
{
	static struct ap_counters c;
	char path[128];
	int64_t t;

	snprintf(path, sizeof(path), AP_SIM_DIR "/%s", file);
	callback_ns(NULL);
	if (counters_zero())
		die("zero counters", errno);
	t = timed_write(path, id);
	if (t < 0)
		die(file, t);
	if (counters_snap(&c))
		die("counters", errno);
	printf("time %s_write %lld\n", metric, (long long)t);
	printf("time %s_callbacks %lld\n", metric,
	       (long long)callback_ns(metric));
	printf("num %s_zapq %lu\n", metric, counters_zapq_total(&c));
}

/* Mdev k of 64: adapter k % 16, domains 4 * (k / 16) .. + 3. */
static void sixty_four_mdevs(void)
{
	struct ap_matrix mx;
	char uuid[40];
	unsigned int k;

	for (k = 0; k < BENCH_MDEVS; k++) {
		memset(&mx, 0, sizeof(mx));
		mask_set(&mx.apm, k % 16);
		matrix_ids(&mx.aqm, 4 * (k / 16), 4 * (k / 16) + 3);
		mask_set(&mx.adm, k % 16);
		bench_uuid(200 + k, uuid);
		mdev_with(uuid, &mx);
	}
}

static long meminfo_kb(const char *key)
{
	char buf[4096], *p;
	ssize_t n;

	n = sysfs_read("/proc/meminfo", buf, sizeof(buf));
	if (n < 0)
		die("/proc/meminfo", n);
	p = strstr(buf, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* Slab growth over creating them is the memory an mdev costs. */
static void bench_host_change(void)
{
	long before, after;

	world();
	before = meminfo_kb("\nSlab:");
	sixty_four_mdevs();
	after = meminfo_kb("\nSlab:");
	printf("size slab_per_mdev %ld\n", (after - before) * 1024 / BENCH_MDEVS);
	host_change("remove_adapter", "15", "host_rm_adapter");
	host_change("add_adapter", "15", "host_add_adapter");
	host_change("remove_domain", "15", "host_rm_domain");
	host_change("add_domain", "15", "host_add_domain");
}

static void guest_open(struct kvm_guest *g, struct kvm_vdev *d,
		       const char *uuid)
{
	const char *step;
	int rc;

	kvm_guest_init(g);
	kvm_vdev_init(d);
	rc = kvm_guest_create(g, &step);
	if (!rc)
		rc = kvm_vdev_open(d, g, uuid, &step);
	if (rc)
		die(step, rc);
}

static void guest_close(struct kvm_guest *g, struct kvm_vdev *d)
{
	kvm_vdev_close(d);
	kvm_guest_destroy(g);
}

/*
 * VFIO_DEVICE_RESET of a guest with @n queues while each ZAPQ takes
 * 20 ms to complete; the simulator's counters must show one ZAPQ per
 * queue of the guest and none elsewhere.
 */
static void bench_reset(unsigned int n)
{
	static struct ap_counters c;
	unsigned int apid, apqi, once = 0, other = 0;
	struct kvm_guest g;
	struct kvm_vdev d;
	struct ap_matrix mx;
	char a[40], name[64], detail[96];
	uint64_t t0, t1;
	int rc;

	world();
	memset(&mx, 0, sizeof(mx));
	matrix_ids(&mx.apm, 0, n / 16 - 1);
	matrix_ids(&mx.aqm, 0, 15);
	bench_uuid(1, a);
	mdev_with(a, &mx);
	guest_open(&g, &d, a);
	if (sim_write("reset_delay_ms", "20") || counters_zero())
		die("reset_delay_ms", errno);
	t0 = now_ns();
	rc = ioctl(d.dev, VFIO_DEVICE_RESET);
	t1 = now_ns();
	if (rc)
		die("VFIO_DEVICE_RESET", errno);
	if (counters_snap(&c))
		die("counters", errno);
	sim_write("reset_delay_ms", "0");
	guest_close(&g, &d);

	for (apid = 0; apid < 16; apid++)
		for (apqi = 0; apqi < 16; apqi++) {
			unsigned int z = counters_zapq(&c, apid, apqi);

			if (apid < n / 16)
				once += z == 1;
			else
				other += z;
		}
	printf("time reset_%u_queues %llu\n", n, (unsigned long long)(t1 - t0));
	snprintf(name, sizeof(name), "reset_%u_each_queue_once", n);
	snprintf(detail, sizeof(detail), "%u/%u queues reset once, %u other resets",
		 once, n, other);
	report(name, once == n && other == 0, detail);
}

/* --- CRYCB updates of attached guests --- */

/*
 * KVM names a VM's s390dbf log after the pid that created it, so each
 * guest lives in a child of its own: it opens its mdev and holds it until
 * its pipe closes.
 */
struct bench_guest {
	pid_t pid;
	int hold;	/* write end; closing it lets the child go */
};

static void guest_child(const char *uuid, int ready, int hold)
{
	struct kvm_guest g;
	struct kvm_vdev d;
	char c = 1;

	guest_open(&g, &d, uuid);
	if (write(ready, &c, 1) != 1)
		exit(1);
	while (read(hold, &c, 1) > 0)
		;
	guest_close(&g, &d);
	exit(0);
}

static void guest_start(struct bench_guest *bg, const char *uuid)
{
	int ready[2], hold[2];
	char c;

	if (pipe(ready) || pipe(hold))
		die("pipe", errno);
	fflush(stdout);
	bg->pid = fork();
	if (bg->pid < 0)
		die("fork", errno);
	if (!bg->pid) {
		close(ready[0]);
		close(hold[1]);
		guest_child(uuid, ready[1], hold[0]);
	}
	close(ready[1]);
	close(hold[0]);
	bg->hold = hold[1];
	if (read(ready[0], &c, 1) != 1)
		die("guest start", EIO);
	close(ready[0]);
}

static void guest_stop(struct bench_guest *bg)
{
	int status;

	close(bg->hold);
	waitpid(bg->pid, &status, 0);
}

static int crycb_updates(const struct bench_guest *bg)
{
	static char buf[1 << 18];
	char path[96];
	ssize_t n;
	int count = 0;
	char *p;

	snprintf(path, sizeof(path), DBF_DIR "/kvm-%d/sprintf", bg->pid);
	n = sysfs_read(path, buf, sizeof(buf));
	if (n < 0)
		die(path, n);
	for (p = buf; (p = strstr(p, "SET CRYCB: apm")); p++)
		count++;
	for (p = buf; (p = strstr(p, "CLR CRYCB")); p++)
		count++;
	return count;
}

struct crycb_action {
	const char *name;
	const char *file;	/* mdev attribute, or a path from / */
	const char *val;
	int expect[2];		/* per guest */
};

#define G1	"00000000-0000-4000-8000-000000000301"
#define G2	"00000000-0000-4000-8000-000000000302"
#define SIM	AP_SIM_DIR "/"
#define VFIO_DRV "/sys/bus/ap/drivers/vfio_ap/"

/*
 * Guest 1 holds adapters 0-1 x domains 0-1 (control domain 0), guest 2
 * adapters 2-3 x domains 2-3; adapter 0x40 and domain 0x40 are assigned
 * but not in the host (over-provisioning).
 */
static const struct crycb_action crycb_actions[] = {
	{ "assign_adapter_plugs", G1 "/assign_adapter", "4", { 1, 0 } },
	{ "assign_adapter_not_in_host", G1 "/assign_adapter", "0x41", { 0, 0 } },
	{ "unassign_adapter_unplugs", G1 "/unassign_adapter", "4", { 1, 0 } },
	{ "unassign_adapter_not_in_host", G1 "/unassign_adapter", "0x41", { 0, 0 } },
	{ "assign_domain_plugs", G1 "/assign_domain", "5", { 1, 0 } },
	{ "assign_domain_not_in_host", G1 "/assign_domain", "0x41", { 0, 0 } },
	{ "unassign_domain_unplugs", G1 "/unassign_domain", "5", { 1, 0 } },
	{ "unassign_domain_not_in_host", G1 "/unassign_domain", "0x41", { 0, 0 } },
	{ "assign_control_domain_plugs", G1 "/assign_control_domain", "6", { 1, 0 } },
	{ "assign_control_domain_not_in_host", G1 "/assign_control_domain", "0x41", { 0, 0 } },
	{ "unassign_control_domain_unplugs", G1 "/unassign_control_domain", "6", { 1, 0 } },
	{ "unassign_control_domain_not_in_host", G1 "/unassign_control_domain", "0x41", { 0, 0 } },
	{ "ap_config_changes", G1 "/ap_config", NULL, { 1, 0 } },
	{ "ap_config_same", G1 "/ap_config", NULL, { 0, 0 } },
	{ "queue_unbind_in_guest", VFIO_DRV "unbind", "00.0000", { 1, 0 } },
	{ "queue_bind_in_guest", VFIO_DRV "bind", "00.0000", { 1, 0 } },
	{ "queue_unbind_unassigned", VFIO_DRV "unbind", "0f.000f", { 0, 0 } },
	{ "queue_bind_unassigned", VFIO_DRV "bind", "0f.000f", { 0, 0 } },
	{ "host_remove_adapter_of_g1", SIM "remove_adapter", "1", { 1, 0 } },
	{ "host_add_adapter_of_g1", SIM "add_adapter", "1", { 1, 0 } },
	{ "host_add_domain_of_both", SIM "add_domain", "0x40", { 1, 1 } },
	{ "host_remove_domain_of_both", SIM "remove_domain", "0x40", { 1, 1 } },
	{ "host_remove_domain_of_g2", SIM "remove_domain", "2", { 0, 1 } },
	{ "host_add_domain_of_g2", SIM "add_domain", "2", { 0, 1 } },
	{ "host_remove_unassigned_adapter", SIM "remove_adapter", "0xe", { 0, 0 } },
	{ "host_add_unassigned_adapter", SIM "add_adapter", "0xe", { 0, 0 } },
	{ "host_remove_control_domain_of_g1", SIM "remove_control_domain", "0", { 1, 0 } },
	{ "host_add_control_domain_of_g1", SIM "add_control_domain", "0", { 1, 0 } },
};

static void crycb_setup(void)
{
	struct ap_matrix mx;

	world();
	memset(&mx, 0, sizeof(mx));
	matrix_ids(&mx.apm, 0, 1);
	matrix_ids(&mx.aqm, 0, 1);
	mask_set(&mx.apm, 0x40);
	mask_set(&mx.aqm, 0x40);
	mask_set(&mx.adm, 0);
	mdev_with(G1, &mx);
	memset(&mx, 0, sizeof(mx));
	matrix_ids(&mx.apm, 2, 3);
	matrix_ids(&mx.aqm, 2, 3);
	mask_set(&mx.aqm, 0x40);
	mdev_with(G2, &mx);
}

/* ap_config values for the two ap_config actions: add domain 7, twice. */
static void crycb_ap_config(char *cfg)
{
	struct ap_matrix mx;

	if (mdev_config(G1, &mx))
		die("read ap_config", errno);
	mask_set(&mx.aqm, 7);
	matrix_fmt_config(&mx, cfg);
}

static void bench_crycb(void)
{
	struct bench_guest bg[2];
	char path[160], cfg[256], detail[64];
	unsigned int i, j;

	crycb_setup();
	guest_start(&bg[0], G1);
	guest_start(&bg[1], G2);
	for (i = 0; i < ARRAY_SIZE(crycb_actions); i++) {
		const struct crycb_action *a = &crycb_actions[i];
		const char *val = a->val;
		int before[2], seen;
		int64_t t;

		if (!val) {
			crycb_ap_config(cfg);
			val = cfg;
		}
		for (j = 0; j < 2; j++)
			before[j] = crycb_updates(&bg[j]);
		if (a->file[0] == '/')
			snprintf(path, sizeof(path), "%s", a->file);
		else
			snprintf(path, sizeof(path), MATRIX_DIR "/%s", a->file);
		t = timed_write(path, val);
		if (t < 0) {
			report(a->name, false, strerror(-t));
			continue;
		}
		for (j = 0; j < 2; j++) {
			seen = crycb_updates(&bg[j]) - before[j];
			printf("count %s g%u %d %d\n", a->name, j + 1, seen,
			       a->expect[j]);
			snprintf(detail, sizeof(detail), "guest %u: %d update(s), want %d",
				 j + 1, seen, a->expect[j]);
			if (seen != a->expect[j])
				report(a->name, false, detail);
		}
	}
	/* The second child holds the first one's pipe too: stop it first. */
	guest_stop(&bg[1]);
	guest_stop(&bg[0]);
}

int main(int argc, char **argv)
{
	const char *w = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(w, "assign")) {
		bench_assign();
	} else if (!strcmp(w, "ap_config")) {
		bench_ap_config();
	} else if (!strcmp(w, "host_change")) {
		bench_host_change();
	} else if (!strcmp(w, "reset")) {
		bench_reset(argc > 2 ? atoi(argv[2]) : 16);
	} else if (!strcmp(w, "crycb")) {
		bench_crycb();
	} else {
		fprintf(stderr, "usage: %s assign|ap_config|host_change|reset N|crycb\n",
			argv[0]);
		return 2;
	}
	world();
	return failures ? 1 : 0;
}
