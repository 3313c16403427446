// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the vfio_ap selftests.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "vfio_ap_util.h"

int sysfs_write_len(const char *path, const void *buf, size_t len)
{
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	close(fd);
	return err;
}

int sysfs_write(const char *path, const char *val)
{
	return sysfs_write_len(path, val, strlen(val));
}

ssize_t sysfs_read(const char *path, char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	while ((size_t)total < size - 1) {
		n = read(fd, buf + total, size - 1 - total);
		if (n < 0) {
			total = -errno;
			break;
		}
		if (n == 0)
			break;
		total += n;
	}
	close(fd);
	if (total >= 0)
		buf[total] = '\0';
	return total;
}

bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

void mask_clear(struct ap_mask *m)
{
	memset(m, 0, sizeof(*m));
}

void mask_set(struct ap_mask *m, unsigned int id)
{
	m->b[id / 8] |= 0x80 >> (id % 8);
}

void mask_clr(struct ap_mask *m, unsigned int id)
{
	m->b[id / 8] &= ~(0x80 >> (id % 8));
}

bool mask_test(const struct ap_mask *m, unsigned int id)
{
	return m->b[id / 8] & (0x80 >> (id % 8));
}

bool mask_empty(const struct ap_mask *m)
{
	unsigned int i;

	for (i = 0; i < sizeof(m->b); i++)
		if (m->b[i])
			return false;
	return true;
}

void mask_and(struct ap_mask *d, const struct ap_mask *a,
	      const struct ap_mask *b)
{
	unsigned int i;

	for (i = 0; i < sizeof(d->b); i++)
		d->b[i] = a->b[i] & b->b[i];
}

void mask_fmt(const struct ap_mask *m, char *out)
{
	unsigned int i;

	out[0] = '0';
	out[1] = 'x';
	for (i = 0; i < sizeof(m->b); i++)
		sprintf(out + 2 + 2 * i, "%02x", m->b[i]);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mask_parse(const char *s, struct ap_mask *m)
{
	unsigned int i;
	int v;

	mask_clear(m);
	if (strncmp(s, "0x", 2))
		return -EINVAL;
	s += 2;
	for (i = 0; i < 2 * sizeof(m->b); i++) {
		v = hexval(s[i]);
		if (v < 0)
			return -EINVAL;
		m->b[i / 2] |= i % 2 ? v : v << 4;
	}
	return 0;
}

int mdev_config(const char *uuid, struct ap_matrix *mx)
{
	char buf[512];
	ssize_t n;

	n = mdev_read(uuid, "ap_config", buf, sizeof(buf));
	if (n < 0)
		return n;
	/* three masks of 66 characters, two commas, a newline */
	if (n != 3 * 66 + 3 || buf[66] != ',' || buf[133] != ',' ||
	    buf[200] != '\n')
		return -EINVAL;
	if (mask_parse(buf, &mx->apm) || mask_parse(buf + 67, &mx->aqm) ||
	    mask_parse(buf + 134, &mx->adm))
		return -EINVAL;
	return 0;
}

void matrix_fmt_config(const struct ap_matrix *mx, char *out)
{
	mask_fmt(&mx->apm, out);
	out[66] = ',';
	mask_fmt(&mx->aqm, out + 67);
	out[133] = ',';
	mask_fmt(&mx->adm, out + 134);
	out[200] = '\n';
	out[201] = '\0';
}

void matrix_fmt_apqns(const struct ap_mask *apm, const struct ap_mask *aqm,
		      char *out, size_t size)
{
	unsigned int a, d;
	size_t len = 0;

	out[0] = '\0';
	if (mask_empty(aqm)) {
		for (a = 0; a < AP_IDS; a++)
			if (mask_test(apm, a))
				len += snprintf(out + len, size - len,
						"%02x.\n", a);
		return;
	}
	if (mask_empty(apm)) {
		for (d = 0; d < AP_IDS; d++)
			if (mask_test(aqm, d))
				len += snprintf(out + len, size - len,
						".%04x\n", d);
		return;
	}
	for (a = 0; a < AP_IDS; a++) {
		if (!mask_test(apm, a))
			continue;
		for (d = 0; d < AP_IDS; d++)
			if (mask_test(aqm, d))
				len += snprintf(out + len, size - len,
						"%02x.%04x\n", a, d);
	}
}

void matrix_fmt_domains(const struct ap_mask *adm, char *out, size_t size)
{
	size_t len = 0;
	unsigned int d;

	out[0] = '\0';
	for (d = 0; d < AP_IDS; d++)
		if (mask_test(adm, d))
			len += snprintf(out + len, size - len, "%04x\n", d);
}

void matrix_fmt_crycb(const struct ap_matrix *mx, char *out)
{
	mask_fmt(&mx->apm, out);
	out[66] = '\n';
	mask_fmt(&mx->aqm, out + 67);
	out[133] = '\n';
	mask_fmt(&mx->adm, out + 134);
	out[200] = '\n';
	out[201] = '\0';
}

int ids_parse(const char *s, struct ap_mask *m)
{
	unsigned long id;
	char *end;

	mask_clear(m);
	while (*s) {
		id = strtoul(s, &end, 0);
		if (end == s || id >= AP_IDS || (*end && *end != ','))
			return -EINVAL;
		mask_set(m, id);
		s = *end ? end + 1 : end;
	}
	return 0;
}

static void mdev_path(char *path, size_t size, const char *uuid,
		      const char *attr)
{
	snprintf(path, size, MATRIX_DIR "/%s/%s", uuid, attr);
}

int mdev_create(const char *uuid)
{
	return sysfs_write(MDEV_TYPE_DIR "/create", uuid);
}

int mdev_remove(const char *uuid)
{
	return mdev_write(uuid, "remove", "1");
}

bool mdev_exists(const char *uuid)
{
	char path[256];

	snprintf(path, sizeof(path), MATRIX_DIR "/%s", uuid);
	return path_exists(path);
}

static bool is_uuid(const char *s)
{
	return strlen(s) == 36 && s[8] == '-' && s[13] == '-' &&
	       s[18] == '-' && s[23] == '-';
}

int mdev_remove_all(void)
{
	struct dirent *de;
	int err = 0, rc;
	DIR *dir;

	dir = opendir(MATRIX_DIR);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (!is_uuid(de->d_name))
			continue;
		rc = mdev_remove(de->d_name);
		if (rc && !err)
			err = rc;
	}
	closedir(dir);
	return err;
}

int mdev_write_len(const char *uuid, const char *attr, const void *buf,
		   size_t len)
{
	char path[256];

	mdev_path(path, sizeof(path), uuid, attr);
	return sysfs_write_len(path, buf, len);
}

int mdev_write(const char *uuid, const char *attr, const char *val)
{
	return mdev_write_len(uuid, attr, val, strlen(val));
}

ssize_t mdev_read(const char *uuid, const char *attr, char *buf, size_t size)
{
	char path[256];

	mdev_path(path, sizeof(path), uuid, attr);
	return sysfs_read(path, buf, size);
}

int mdev_assign(const char *uuid, const char *attr, unsigned int id)
{
	char val[16];

	snprintf(val, sizeof(val), "%u", id);
	return mdev_write(uuid, attr, val);
}

int sim_write(const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), AP_SIM_DIR "/%s", file);
	return sysfs_write(path, val);
}

int sim_writef(const char *file, const char *fmt, ...)
{
	char val[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	return sim_write(file, val);
}

/* "5-6,71" into @m */
static int parse_id_list(const char *s, size_t len, struct ap_mask *m)
{
	unsigned long lo, hi, id;
	const char *end = s + len;
	char *p;

	mask_clear(m);
	while (s < end) {
		lo = strtoul(s, &p, 0);
		if (p == s)
			return -EINVAL;
		hi = lo;
		if (*p == '-') {
			s = p + 1;
			hi = strtoul(s, &p, 0);
			if (p == s)
				return -EINVAL;
		}
		if (hi >= AP_IDS || lo > hi)
			return -EINVAL;
		for (id = lo; id <= hi; id++)
			mask_set(m, id);
		s = p;
		if (s < end && *s == ',')
			s++;
	}
	return 0;
}

static int config_key(const char *cfg, const char *key, struct ap_mask *m)
{
	const char *p = cfg;
	size_t klen = strlen(key);

	while ((p = strstr(p, key))) {
		if ((p == cfg || p[-1] == ' ') && p[klen] == '=') {
			p += klen + 1;
			return parse_id_list(p, strcspn(p, "\n\t "), m);
		}
		p += klen;
	}
	return -ENOENT;
}

int sim_host(struct ap_matrix *host)
{
	char buf[4096];
	ssize_t n;

	n = sysfs_read(AP_SIM_DIR "/config", buf, sizeof(buf));
	if (n < 0)
		return n;
	if (config_key(buf, "adapters", &host->apm) ||
	    config_key(buf, "domains", &host->aqm) ||
	    config_key(buf, "control_domains", &host->adm))
		return -EINVAL;
	return 0;
}

int counters_zero(void)
{
	return sim_write("counters", "0");
}

int counters_snap(struct ap_counters *c)
{
	static char buf[1 << 20];
	unsigned int apid, apqi, zapq;
	char *line, *save;
	ssize_t n;

	memset(c, 0, sizeof(*c));
	n = sysfs_read(AP_SIM_DIR "/counters", buf, sizeof(buf));
	if (n < 0)
		return n;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%x.%x zapq=%u", &apid, &apqi, &zapq) != 3 ||
		    apid >= AP_IDS || apqi >= AP_IDS)
			return -EINVAL;
		c->zapq[apid][apqi] = zapq;
	}
	return 0;
}

unsigned int counters_zapq(const struct ap_counters *c, unsigned int apid,
			   unsigned int apqi)
{
	return c->zapq[apid][apqi];
}

unsigned long counters_zapq_total(const struct ap_counters *c)
{
	unsigned long sum = 0;
	unsigned int a, d;

	for (a = 0; a < AP_IDS; a++)
		for (d = 0; d < AP_IDS; d++)
			sum += c->zapq[a][d];
	return sum;
}

void apqn_name(unsigned int apid, unsigned int apqi, char *out)
{
	sprintf(out, "%02x.%04x", apid & 0xff, apqi & 0xffff);
}

bool queue_exists(unsigned int apid, unsigned int apqi)
{
	char path[128], q[16];

	apqn_name(apid, apqi, q);
	snprintf(path, sizeof(path), AP_DEV_DIR "/%s", q);
	return path_exists(path);
}

bool queue_bound_vfio(unsigned int apid, unsigned int apqi)
{
	char path[128], q[16];

	apqn_name(apid, apqi, q);
	snprintf(path, sizeof(path), VFIO_AP_DRV_DIR "/%s", q);
	return path_exists(path);
}

int queue_driver(unsigned int apid, unsigned int apqi, char *out,
		 size_t size)
{
	char path[128], link[256], q[16];
	ssize_t n;

	apqn_name(apid, apqi, q);
	snprintf(path, sizeof(path), AP_DEV_DIR "/%s/driver", q);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		out[0] = '\0';
		return errno == ENOENT ? 0 : -errno;
	}
	link[n] = '\0';
	snprintf(out, size, "%s", strrchr(link, '/') + 1);
	return 0;
}

int queue_unbind_vfio(unsigned int apid, unsigned int apqi)
{
	char q[16];

	apqn_name(apid, apqi, q);
	return sysfs_write(VFIO_AP_DRV_DIR "/unbind", q);
}

int queue_bind_vfio(unsigned int apid, unsigned int apqi)
{
	char q[16];

	apqn_name(apid, apqi, q);
	return sysfs_write(VFIO_AP_DRV_DIR "/bind", q);
}

ssize_t queue_status(unsigned int apid, unsigned int apqi, char *buf,
		     size_t size)
{
	char path[128], q[16];

	apqn_name(apid, apqi, q);
	snprintf(path, sizeof(path), AP_DEV_DIR "/%s/status", q);
	return sysfs_read(path, buf, size);
}

/* An adapter stays in the guest only if all its APQNs are vfio_ap's. */
static bool adapter_fully_bound(unsigned int apid, const struct ap_mask *aqm)
{
	unsigned int d;

	for (d = 0; d < AP_IDS; d++)
		if (mask_test(aqm, d) && !queue_bound_vfio(apid, d))
			return false;
	return true;
}

int guest_matrix_expected(const struct ap_matrix *mx, char *out,
			  size_t size)
{
	struct ap_mask apm, aqm;
	struct ap_matrix host;
	unsigned int a;
	int rc;

	rc = sim_host(&host);
	if (rc)
		return rc;
	mask_and(&apm, &mx->apm, &host.apm);
	mask_and(&aqm, &mx->aqm, &host.aqm);
	for (a = 0; a < AP_IDS; a++)
		if (mask_test(&apm, a) && !adapter_fully_bound(a, &aqm))
			mask_clr(&apm, a);
	matrix_fmt_apqns(&apm, &aqm, out, size);
	return 0;
}

/* Give every queue without a driver back to the bus for probing. */
static int reprobe_unbound_queues(void)
{
	char path[300], link[256];
	struct dirent *de;
	int err = 0, rc;
	DIR *dir;

	dir = opendir(AP_DEV_DIR);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (!strchr(de->d_name, '.') || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), AP_DEV_DIR "/%s/driver",
			 de->d_name);
		if (readlink(path, link, sizeof(link)) >= 0)
			continue;
		rc = sysfs_write(AP_BUS_DIR "/drivers_probe", de->d_name);
		if (rc && !err)
			err = rc;
	}
	closedir(dir);
	return err;
}

/* A simulator configuration, as written or as read back. */
struct sim_cfg {
	struct ap_matrix m;
	unsigned long type, apxa, na, nd;
	char mode[8];
};

static int sim_cfg_parse(const char *s, struct sim_cfg *c)
{
	char key[32], val[1024];
	int n, rc = 0;

	memset(c, 0, sizeof(*c));
	c->na = ULONG_MAX;	/* not given: follows apxa */
	c->nd = ULONG_MAX;
	c->type = 14;
	c->apxa = 1;
	snprintf(c->mode, sizeof(c->mode), "cca");
	while (!rc && sscanf(s, " %31[^= ]=%1023s%n", key, val, &n) == 2) {
		s += n;
		if (!strcmp(key, "adapters"))
			rc = parse_id_list(val, strlen(val), &c->m.apm);
		else if (!strcmp(key, "domains"))
			rc = parse_id_list(val, strlen(val), &c->m.aqm);
		else if (!strcmp(key, "control_domains"))
			rc = parse_id_list(val, strlen(val), &c->m.adm);
		else if (!strcmp(key, "type"))
			c->type = strtoul(val, NULL, 0);
		else if (!strcmp(key, "apxa"))
			c->apxa = strtoul(val, NULL, 0);
		else if (!strcmp(key, "na"))
			c->na = strtoul(val, NULL, 0);
		else if (!strcmp(key, "nd"))
			c->nd = strtoul(val, NULL, 0);
		else if (!strcmp(key, "mode"))
			snprintf(c->mode, sizeof(c->mode), "%.7s", val);
		else
			rc = -EINVAL;
	}
	if (c->na == ULONG_MAX)
		c->na = c->apxa ? 255 : 63;
	if (c->nd == ULONG_MAX)
		c->nd = c->apxa ? 255 : 15;
	return rc;
}

/* Write @config unless the simulator has it already (a rescan saved). */
static int sim_config_ensure(const char *config)
{
	struct sim_cfg want, now;
	char buf[4096];
	ssize_t n;

	n = sysfs_read(AP_SIM_DIR "/config", buf, sizeof(buf));
	if (n > 0 && !sim_cfg_parse(config, &want) &&
	    !sim_cfg_parse(buf, &now) && !memcmp(&want, &now, sizeof(want)))
		return 0;
	return sim_write("config", config);
}

/* Write @mask to @path unless it holds it already; check the result. */
static int mask_ensure(const char *path, const char *mask)
{
	char buf[128];
	ssize_t n;
	int rc;

	n = sysfs_read(path, buf, sizeof(buf));
	if (n > 0 && !strncmp(buf, mask, strlen(mask)))
		return 0;
	rc = sysfs_write(path, mask);
	if (rc)
		return rc;
	n = sysfs_read(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	if (strncmp(buf, mask, strlen(mask)))
		return -EIO;
	return 0;
}

int world_reset(const char *config, const char *apmask, const char *aqmask)
{
	int rc;

	if (!vfio_ap_loaded()) {
		rc = vfio_ap_load();
		if (rc)
			return rc;
	}
	rc = sim_write("fault", "all clear");
	if (!rc)
		rc = sim_write("reset_delay_ms", "0");
	if (!rc)
		rc = mdev_remove_all();
	if (!rc)
		rc = mask_ensure(AP_BUS_DIR "/apmask", apmask);
	if (!rc)
		rc = mask_ensure(AP_BUS_DIR "/aqmask", aqmask);
	if (!rc)
		rc = sim_config_ensure(config);
	if (!rc)
		rc = reprobe_unbound_queues();
	if (!rc)
		rc = counters_zero();
	return rc;
}

int world_std(void)
{
	return world_reset(STD_CONFIG, STD_APMASK, MASK_ALL);
}

bool vfio_ap_loaded(void)
{
	return path_exists("/sys/module/vfio_ap");
}

int vfio_ap_unload(void)
{
	if (syscall(SYS_delete_module, "vfio_ap", O_NONBLOCK))
		return -errno;
	return 0;
}

int vfio_ap_load(void)
{
	int fd, rc = 0;

	fd = open(VFIO_AP_KO, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "", 0))
		rc = -errno;
	close(fd);
	return rc;
}

int kmsg_open(void)
{
	int fd;

	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

int kmsg_collect(int fd, char *buf, size_t size)
{
	size_t len = strlen(buf);
	char rec[8192], *text, *nl;
	unsigned int prio;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0) {
			if (errno == EAGAIN)
				return 0;
			if (errno == EPIPE)	/* overwritten; go on */
				continue;
			return -errno;
		}
		rec[n] = '\0';
		text = strchr(rec, ';');
		if (!text || sscanf(rec, "%u,", &prio) != 1)
			continue;
		text++;
		nl = strchr(text, '\n');
		if (nl)
			*nl = '\0';
		len += snprintf(buf + len, len < size ? size - len : 0,
				"%u %s\n", prio & 7, text);
		if (len >= size)
			return -ENOSPC;
	}
}

int kmsg_count(const char *log, int max_level, const char *s1,
	       const char *s2, const char *s3)
{
	const char *line = log, *end;
	char tmp[1024];
	int count = 0;
	size_t len;

	while (*line) {
		end = strchr(line, '\n');
		len = end ? (size_t)(end - line) : strlen(line);
		if (len >= sizeof(tmp))
			len = sizeof(tmp) - 1;
		memcpy(tmp, line, len);
		tmp[len] = '\0';
		if (isdigit(tmp[0]) && tmp[0] - '0' <= max_level &&
		    (!s1 || strstr(tmp, s1)) && (!s2 || strstr(tmp, s2)) &&
		    (!s3 || strstr(tmp, s3)))
			count++;
		if (!end)
			break;
		line = end + 1;
	}
	return count;
}

void queues_rebind_withheld(int kmsg)
{
	static char log[65536];
	unsigned int apid, apqi;
	const char *p;

	if (kmsg < 0)
		return;
	log[0] = '\0';
	kmsg_collect(kmsg, log, sizeof(log));
	for (p = strstr(log, "reset of queue "); p;
	     p = strstr(p + 1, "reset of queue ")) {
		if (sscanf(p, "reset of queue %x.%x", &apid, &apqi) != 2 ||
		    !queue_bound_vfio(apid, apqi))
			continue;
		queue_unbind_vfio(apid, apqi);
		queue_bind_vfio(apid, apqi);
	}
}
