# `make install` / `make uninstall` / `make deb` (included by the Makefile).
# PREFIX and DESTDIR as usual; the unit, the settings and the logrotate file
# go to the system's own places whatever PREFIX is, and each directory can
# be moved on its own (make install UNITDIR=/etc/systemd/system).

PREFIX       ?= /usr
DESTDIR      ?=
SBINDIR      ?= $(PREFIX)/sbin
SYSCONFDIR   ?= /etc
CONFDIR      ?= $(SYSCONFDIR)/sysguard
UNITDIR      ?= /lib/systemd/system
LOGROTATEDIR ?= $(SYSCONFDIR)/logrotate.d
MANDIR       ?= $(PREFIX)/share/man
DOCDIR       ?= $(PREFIX)/share/doc/sysguard
BASHCOMPDIR  ?= $(PREFIX)/share/bash-completion/completions
# The gRPC service's definition, for clients to generate their code from (docs/grpc.md).
PROTODIR     ?= $(PREFIX)/share/sysguard/proto

# Wildcards: man pages and completions that other work adds are picked up.
INSTALL_MAN8 := $(wildcard docs/man/*.8)
INSTALL_MAN5 := $(wildcard docs/man/*.5)
INSTALL_BASHCOMP := $(wildcard deploy/bash-completion/*)
INSTALL_DOCS := README.md $(wildcard docs/*.md)

# The unit and the settings name the default paths; follow SBINDIR and CONFDIR.
INSTALL_PATHS := sed -e 's|/usr/sbin/|$(SBINDIR)/|g' -e 's|/etc/sysguard/|$(CONFDIR)/|g'

.PHONY: install uninstall deb

install: $(O)/sysguardd $(O)/sysguardctl
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CONFDIR) \
		$(DESTDIR)$(LOGROTATEDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(DOCDIR)
	install -m 0755 $(O)/sysguardd $(O)/sysguardctl $(DESTDIR)$(SBINDIR)/
	$(INSTALL_PATHS) deploy/systemd/sysguardd.service > $(DESTDIR)$(UNITDIR)/sysguardd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/sysguardd.service
	@# An administrator's settings and policy are never overwritten.
	@set -e; for f in sysguard.yaml:deploy/sysguard.yaml policy.yaml:policies/default.yaml; do \
		dst=$(DESTDIR)$(CONFDIR)/$${f%%:*}; src=$${f#*:}; \
		if [ -e "$$dst" ]; then echo "install: kept $$dst"; \
		else echo "install: $$dst"; $(INSTALL_PATHS) "$$src" > "$$dst"; chmod 0600 "$$dst"; fi; \
	done
	install -m 0644 deploy/logrotate/sysguard $(DESTDIR)$(LOGROTATEDIR)/sysguard
	$(if $(INSTALL_MAN8),install -m 0644 $(INSTALL_MAN8) $(DESTDIR)$(MANDIR)/man8/)
	$(if $(INSTALL_MAN5),install -m 0644 $(INSTALL_MAN5) $(DESTDIR)$(MANDIR)/man5/)
	$(if $(INSTALL_BASHCOMP),install -d $(DESTDIR)$(BASHCOMPDIR))
	$(if $(INSTALL_BASHCOMP),install -m 0644 $(INSTALL_BASHCOMP) $(DESTDIR)$(BASHCOMPDIR)/)
	install -m 0644 $(INSTALL_DOCS) $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(PROTODIR)/sysguard/v1
	install -m 0644 proto/sysguard/v1/sysguard.proto $(DESTDIR)$(PROTODIR)/sysguard/v1/

# A running daemon keeps its binary immutable and would put back what is
# removed: stop it first. Settings that were changed are kept.
uninstall:
	@if [ -z "$(DESTDIR)" ] && (for p in /proc/[0-9]*; do \
		case "$$(readlink $$p/exe 2>/dev/null)" in "$(SBINDIR)/sysguardd"*) exit 0 ;; esac; \
	done; exit 1); then echo "uninstall: $(SBINDIR)/sysguardd is running; stop it first" >&2; exit 1; fi
	-chattr -i $(DESTDIR)$(SBINDIR)/sysguardd $(DESTDIR)$(SBINDIR)/sysguardctl \
		$(wildcard $(DESTDIR)$(CONFDIR)/*) 2>/dev/null
	rm -f $(DESTDIR)$(SBINDIR)/sysguardd $(DESTDIR)$(SBINDIR)/sysguardctl \
		$(DESTDIR)$(UNITDIR)/sysguardd.service $(DESTDIR)$(LOGROTATEDIR)/sysguard
	rm -f $(foreach m,$(INSTALL_MAN8),$(DESTDIR)$(MANDIR)/man8/$(notdir $(m)) $(DESTDIR)$(MANDIR)/man8/$(notdir $(m)).gz) \
		$(foreach m,$(INSTALL_MAN5),$(DESTDIR)$(MANDIR)/man5/$(notdir $(m)) $(DESTDIR)$(MANDIR)/man5/$(notdir $(m)).gz) \
		$(addprefix $(DESTDIR)$(BASHCOMPDIR)/,$(notdir $(INSTALL_BASHCOMP)))
	rm -rf $(DESTDIR)$(DOCDIR) $(DESTDIR)$(PROTODIR)
	-rmdir $(DESTDIR)$(dir $(PROTODIR)) 2>/dev/null
	@set -e; for f in sysguard.yaml:deploy/sysguard.yaml policy.yaml:policies/default.yaml; do \
		dst=$(DESTDIR)$(CONFDIR)/$${f%%:*}; src=$${f#*:}; [ -e "$$dst" ] || continue; \
		if $(INSTALL_PATHS) "$$src" | cmp -s - "$$dst"; then rm -f "$$dst"; \
		else echo "uninstall: kept $$dst (changed)"; fi; \
	done
	-rmdir $(DESTDIR)$(CONFDIR) 2>/dev/null

# build/sysguard_VERSION_ARCH.deb (scripts/build-deb.sh).
deb: $(O)/sysguardd $(O)/sysguardctl
	O=$(O) scripts/build-deb.sh
