# rdma.ha_storage: the two commands a user needs are `make lab` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ENV := source tools/env.sh &&

.PHONY: help setup test lab lab-down drill failover-bench idle-soak lint sanity units lowest molecule lab-test requirements build clean

help:
	@echo "make lab       deploy the HA pair into the local QEMU lab and drill a failover (leaves it running)"
	@echo "make lab-down  stop the lab"
	@echo "make drill N=20 [KIND=replication_cut]   N failover drills in a row on the running lab, with"
	@echo "               the distribution of their phases (power cuts alternate the Primary)"
	@echo "make failover-bench N=5 [PROFILES=stock,tuned]   per timer profile a fresh lab, site.yml and N power"
	@echo "               cuts; one table of the phases, tuned against stock (docs/failover-tuning.md)"
	@echo "make idle-soak MINUTES=30   the running, converged lab left alone: false alarms (token lost, fencing,"
	@echo "               DRBD disconnects) and the margins of the timers (docs/failover-tuning.md)"
	@echo "make test      all tests: ansible-lint, ansible-test sanity, unit (sanity and unit on 2.16 too), Molecule, lab"
	@echo "make setup     install what the above need (apt, PyPI venvs, collections, images); idempotent"
	@echo "make lint | sanity | units | lowest | molecule | lab-test   one stage of make test"
	@echo "               (lowest: unit tests and sanity on the lowest ansible-core meta/runtime.yml claims)"
	@echo "make build     ansible-galaxy collection build"

setup:
	@tools/setup.sh

# One pytest session, in order: static checks, unit tests, container scenarios, the lab scenario.
# -x: stop at the first failure.
test: setup
	@$(ENV) tools/run_tests.sh

lint: setup
	@$(ENV) pytest -x tests/static -k 'lint or doc or build'

sanity: setup
	@$(ENV) pytest -x tests/static -k sanity

units: setup
	@$(ENV) pytest -x tests/unit

lowest: setup
	@$(ENV) pytest -x tests/static/test_static_lowest_core.py

molecule: setup
	@$(ENV) pytest -x tests/integration/test_molecule.py

lab-test: setup
	@$(ENV) pytest -x tests/integration/test_lab.py

lab: setup
	@$(ENV) lab/make_lab.sh

lab-down:
	@$(ENV) python -m lab down

N ?= 1
KIND ?= power_cut
drill: setup
	@$(ENV) python -m lab drill --count $(N) --kind $(KIND)

PROFILES ?= stock,tuned
failover-bench: setup
	@$(ENV) python -m lab bench --count $(if $(filter command line,$(origin N)),$(N),5) --profiles $(PROFILES)

MINUTES ?= 30
idle-soak: setup
	@$(ENV) python -m lab soak --minutes $(MINUTES)

build:
	@$(ENV) ansible-galaxy collection build --force --output-path .cache/dist

# Regenerate the full pins of the two test virtualenvs, each from its .in in a throw-away venv:
# requirements-dev.txt (.venv: the development and test tools) and requirements-lowest.txt
# (.venv-lowest: the lowest ansible-core meta/runtime.yml claims). requirements.txt is the
# collection's own (controller) requirements, written by hand.
# One of them only: make requirements REQUIREMENTS=requirements-lowest
REQUIREMENTS ?= requirements-dev requirements-lowest
requirements:
	@for name in $(REQUIREMENTS); do \
	  rm -rf .cache/req-venv && /usr/bin/python3 -m venv .cache/req-venv && \
	  .cache/req-venv/bin/pip install -q --upgrade pip && .cache/req-venv/bin/pip install -q -r $$name.in && \
	  { echo "# Generated from $$name.in by \`make requirements\` (pip freeze of a fresh venv). Do not edit by hand."; \
	    .cache/req-venv/bin/pip freeze; } > $$name.txt && rm -rf .cache/req-venv; \
	done

clean: lab-down
	rm -rf .cache/ansible-test .cache/logs tests/output
