#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Print the nats-server user block of one SysGuard node (docs/fleet.md,
# "Credentials and TLS"), to paste into the users list of
# nats-server.conf:
#
#     deploy/nats/node-user.sh NODE GROUP
#
# NODE is the node's --node-id as it appears in subjects (letters, digits,
# '-' and '_'; anything else becomes '_'), GROUP its --fleet-group. The
# password is $NODE_PASSWORD: give a bcrypt hash (`nats server passwd`
# makes one) rather than the password itself; without it the block carries
# a placeholder to replace. SYSGUARD_STREAM and SYSGUARD_POLICY_BUCKET name
# a stream and a policy bucket other than the defaults.
#
# The node may: publish its own records (sysguard.NODE.>), look up the
# stream and the buckets (never make them: the admin user does), read
# policy.GROUP only (and hear of puts to it), write its own status entry and
# samples only, and receive replies on its own inbox only (_INBOX.NODE.>,
# the daemon's inbox prefix), so that it cannot read another node's replies
# either.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 NODE GROUP" >&2
	exit 2
fi
node=$(printf '%s' "$1" | tr -c 'A-Za-z0-9_-' '_')
group=$2
case $group in
*[!A-Za-z0-9_-]* | "")
	echo "$0: GROUP must be 1-64 letters, digits, '-' or '_'" >&2
	exit 2
	;;
esac
stream=${SYSGUARD_STREAM:-SYSGUARD_EVENTS}
policy=${SYSGUARD_POLICY_BUCKET:-SYSGUARD_POLICY}
password=${NODE_PASSWORD:-REPLACE_WITH_BCRYPT_HASH}

cat <<BLOCK
    {
      # SysGuard node $node, group $group
      user: "$node"
      password: "$password"
      permissions: {
        publish: {
          allow: [
            # its records, acknowledged by JetStream on its inbox
            "sysguard.$node.>"
            # looking up what the admin made (no right to make anything)
            "\$JS.API.STREAM.INFO.$stream"
            "\$JS.API.STREAM.INFO.KV_$policy"
            "\$JS.API.STREAM.INFO.KV_SYSGUARD_STATUS"
            "\$JS.API.STREAM.INFO.KV_SYSGUARD_STATUS_HISTORY"
            # reading policy.$group, and no other key: a direct get of
            # that one subject (a watch would need a consumer of the whole
            # bucket, which could read every group's key)
            "\$JS.API.DIRECT.GET.KV_$policy.\$KV.$policy.policy.$group"
            # its own status entry, and its samples for \`fleet view\`
            "\$KV.SYSGUARD_STATUS.node.$node"
            "\$KV.SYSGUARD_STATUS_HISTORY.node.$node"
          ]
        }
        subscribe: {
          allow: [
            "_INBOX.$node.>"
            # puts to policy.$group as they go by: the node reads the key at once
            "\$KV.$policy.policy.$group"
          ]
        }
      }
    }
BLOCK
