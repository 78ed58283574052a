# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pacemaker_cib options that produced tests/fixtures/pacemaker/cib-configured.xml on the
recorded cluster (the module's first run, stand-in agents), shared by the module_utils and module
tests. Deep-copy before changing it."""

STANDIN = dict(
    crm_config={'stonith-enabled': False, 'no-quorum-policy': 'ignore'},
    rsc_defaults={'resource-stickiness': 100},
    primitives=[
        dict(id='drbd_vol0', agent='ocf:pacemaker:Stateful', operations=[
            dict(action='monitor', interval='29s', role='Promoted', timeout='20s'),
            dict(action='monitor', interval='31s', role='Unpromoted', timeout='20s')]),
        dict(id='srpt_pair1', agent='ocf:heartbeat:Dummy', instance_attrs={'state': '/run/srpt_pair1.state'},
             meta_attrs={'migration-threshold': 3}, operations=[
                 dict(action='monitor', interval='10s', timeout='20s'),
                 dict(action='start', interval='0s', timeout='60s')]),
    ],
    clones=[dict(id='ms_drbd_vol0', resource='drbd_vol0', promotable=True,
                 meta_attrs={'notify': True, 'promoted-max': 1, 'clone-max': 2})],
    colocations=[dict(id='col_srpt_pair1_with_vol0', rsc='srpt_pair1', with_rsc='ms_drbd_vol0',
                      with_rsc_role='Promoted')],
    orders=[dict(id='ord_vol0_promote_srpt_pair1', first='ms_drbd_vol0', first_action='promote',
                 then='srpt_pair1')],
)
