# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fabric model ``rdma_fabric`` (docs/fabric.md), one module per concern.

errors       FabricError (a ValueError) and how user values are shown in messages
ids          identifiers: GUID, GID, SRP target/initiator port names, P_Key, IPoIB names, MAC, LUN WWID
fields       every field of every entity: one table per entity (validator, required, default), one reader
model        the entities and the rules between their fields, analyse(), summary()
slices       host slices: host_slice() for one host, host_slices() for every host of one analysis
differences  discovered rdma_facts against the model (or a host slice)

Import the submodule you need; this package file imports nothing, so a module that only needs
identifiers does not carry the model.  Standard library only.
"""
