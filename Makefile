# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of vfio_ap and the lab that builds, boots and tests it.
# Kbuild (not this file) describes the module; "make help" lists targets.

LAB := tools/testing/vfio_ap_lab/lab.sh
CHECK := tools/testing/vfio_ap_lab/check.sh
COVERAGE := tools/testing/vfio_ap_lab/coverage.sh
BENCH := tools/testing/vfio_ap_lab/bench.sh

# vm-run / vm-shell / demo knobs
KERNEL ?= plain
MODULE ?= project
export KERNEL MODULE SCRIPT SIMCFG

# Plain out-of-tree build against an installed kernel, e.g. on a real
# s390 host: make modules KDIR=/lib/modules/$(uname -r)/build
KDIR ?= /lib/modules/$(shell uname -r)/build

.PHONY: help modules deps kernel module demo check static docs kunit \
	selftests coverage bench vm-run vm-shell admin-tools seed-migrate two-hosts qemu-migration clean

help:
	@echo "make demo       build everything, boot the lab VM, walk the admin flow"
	@echo "make check      all tests: static checks, docs, KUnit, lab, selftests"
	@echo "make kunit      the KUnit suites in QEMU s390x (kunit.py)"
	@echo "make static     checkpatch, kernel-doc, W=1 + sparse builds"
	@echo "make coverage   gcov line and function coverage of the driver by the lab's tests"
	@echo "make bench      our module against the reference module, one boot, one table"
	@echo "make vm-run SCRIPT=path [MODULE=project|reference|none] [KERNEL=plain|debug]"
	@echo "make vm-shell   [MODULE=...] [KERNEL=...] interactive root shell in the VM"
	@echo "make admin-tools [MODULE=...] lszcrypt, mdevctl, virsh nodedev against the driver"
	@echo "make seed-migrate [MODULE=...] virsh/QMP unplug, save/restore, plug of a vfio-ap guest"
	@echo "make two-hosts  a guest migrates between two lab VMs (VFIO migration)"
	@echo "make qemu-migration  real QEMU (the lab's patched build) migrates a vfio-ap guest"
	@echo "make kernel     [KERNEL=plain|debug|cov] build the cached lab kernel"
	@echo "make module     [KERNEL=...] build vfio_ap.ko against the lab kernel"
	@echo "make modules    KDIR=... build against any configured s390 kernel"

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

deps:
	@$(LAB) deps

kernel:
	@$(LAB) kernel $(KERNEL)

module:
	@$(LAB) module $(KERNEL)

demo:
	@$(LAB) demo

vm-run:
	@$(LAB) vm-run

vm-shell:
	@$(LAB) vm-shell

admin-tools:
	@$(LAB) admin-tools

seed-migrate:
	@$(LAB) seed-migrate

two-hosts:
	@CHECK_STEPS=two_hosts $(CHECK)

qemu-migration:
	@CHECK_STEPS=qemu_migration $(CHECK)

check:
	@$(CHECK)

static:
	@CHECK_STEPS=static $(CHECK)

docs:
	@CHECK_STEPS=docs $(CHECK)

kunit:
	@CHECK_STEPS=kunit $(CHECK)

selftests:
	@CHECK_STEPS=selftests $(CHECK)

coverage:
	@$(COVERAGE)

bench:
	@$(BENCH)

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
