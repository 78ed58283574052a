# -*- coding: utf-8 -*-
# Copyright (c) 2026, rdma.ha_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pacemaker's CIB as objects: read, compare object by object, plan the smallest change.

Pure Python (ElementTree): no command is run here. ``plan()`` turns the live configuration
(``cibadmin --query --scope configuration``) and the desired objects into a list of ``Action``s,
each one command of ``cibadmin`` or ``crm_attribute`` touching one object; the module runs them
through the collection's runner.

What is compared, and how (measured on pacemaker 2.1.5, tests/fixtures/pacemaker/README.md):

* objects by id: primitives (stonith devices are primitives of class ``stonith``), clones,
  ``rsc_colocation``, ``rsc_order`` and ``rsc_location`` constraints (a location: a node and a
  score, or one rule of plain node-attribute expressions; other rules are not compared);
  ``crm_config`` and ``rsc_defaults`` nvpairs by name;
* a primitive's instance attributes and operations belong to it: missing or other values are
  set, extra ones removed. Its meta attributes, and a clone's, are set where named and
  otherwise left alone (``target-role``, ``is-managed`` are an operator's state);
* operations by (name, interval): ``10s``, ``10000ms`` and ``10`` are one interval, timeouts
  likewise; roles ``Master``/``Slave`` are ``Promoted``/``Unpromoted``;
* ids Pacemaker or another tool gave existing nvpairs and ops are kept: a changed value is a
  ``cibadmin --modify`` of the existing nvpair's id.

How a difference is applied, never by re-creating a resource:

* a missing resource or constraint: ``cibadmin --create`` of that object;
* new or changed nvpairs or ops of an existing resource: one ``cibadmin --modify`` whose XML
  carries only the resource's path (ids) and the changed children (cibadmin 2.1.5 merges:
  it updates attributes and adds missing children, it removes nothing);
* an op with attributes to drop: ``cibadmin --replace`` of that ``op`` element alone;
* an extra nvpair or op: ``cibadmin --delete`` of that element by id;
* a changed constraint (no running state): ``cibadmin --replace`` of that constraint;
* ``crm_config`` / ``rsc_defaults``: ``crm_attribute --type ... --name ... --update ...``.

A purge never deletes a location constraint the options do not name: ``crm resource move/ban``
(``cli-prefer-*``, ``cli-ban-*``) and DRBD's fence handler (``drbd-fence-by-handler-*``) write
them, and they are an operator's or DRBD's state.

A change only destroying and re-creating would make (another agent, a primitive moved into or
out of a clone) is refused: ``ConflictError`` names the object and the way out.

Module utilities must stay importable on the Python versions of managed hosts: no f-strings,
no dataclasses, no type annotations.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import xml.etree.ElementTree as ET

PROMOTED = 'Promoted'
UNPROMOTED = 'Unpromoted'
ROLE_ALIASES = {'master': PROMOTED, 'promoted': PROMOTED, 'slave': UNPROMOTED, 'unpromoted': UNPROMOTED,
                'started': 'Started', 'stopped': 'Stopped'}
ROLE_ATTRS = ('role', 'rsc-role', 'with-rsc-role')
DURATION_ATTRS = ('interval', 'timeout', 'start-delay', 'interval-origin')
CRM_CONFIG_SET = 'cib-bootstrap-options'
ID_OK = re.compile(r'^[A-Za-z_][A-Za-z0-9_.-]*$')
CONSTRAINT_TAGS = ('rsc_colocation', 'rsc_order', 'rsc_location')
# a purge leaves these alone (module docstring)
KEPT_BY_PURGE = ('rsc_location',)
_DURATION = re.compile(r'^\s*([0-9]+)\s*(ms|msec|us|usec|s|sec|m|min|h|hr)?\s*$', re.IGNORECASE)
_UNIT_MS = {None: 1000, 'ms': 1, 'msec': 1, 's': 1000, 'sec': 1000, 'm': 60000, 'min': 60000,
            'h': 3600000, 'hr': 3600000}


class PacemakerError(Exception):
    """Base of this file's errors; ``fail_kwargs()`` gives the arguments for fail_json."""

    def __init__(self, msg):
        super(PacemakerError, self).__init__(msg)
        self.msg = msg

    def fail_kwargs(self):
        return dict(msg=self.msg)


class ConfigError(PacemakerError):
    """The desired objects are inconsistent (unknown reference, bad id, duplicate)."""


class ConflictError(PacemakerError):
    """A live object contradicts the desired one in a way only re-creating it would fix."""


class CibParseError(PacemakerError):
    """The text cibadmin gave is not a CIB configuration."""


# ---------------------------------------------------------------------- normalisation
def duration_ms(text):
    """A Pacemaker duration ('10', '10s', '500ms', '1min') in ms, or the text when not one."""
    match = _DURATION.match(str(text))
    if not match:
        return str(text).strip()
    number, unit = int(match.group(1)), match.group(2)
    unit = unit.lower() if unit else None
    if unit in ('us', 'usec'):
        return number // 1000
    return number * _UNIT_MS[unit]


def role(text):
    return ROLE_ALIASES.get(str(text).lower(), str(text))


def score(text):
    text = str(text).strip()
    if text.lower() in ('inf', 'infinity', '+inf', '+infinity'):
        return 'INFINITY'
    if text.lower() in ('-inf', '-infinity'):
        return '-INFINITY'
    return text


def value_text(value):
    """An option value as the CIB writes it: booleans true/false, the rest as text."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def norm_attr(name, value):
    """One XML attribute's value as compared."""
    if name in ROLE_ATTRS:
        return role(value)
    if name in DURATION_ATTRS:
        return duration_ms(value)
    if name == 'score':
        return score(value)
    return value_text(value)


def nvpair_id(set_id, name):
    return '%s-%s' % (set_id, re.sub(r'[^A-Za-z0-9_.-]', '_', name))


def op_id(rsc_id, name, interval):
    return '%s-%s-interval-%s' % (rsc_id, name, re.sub(r'[^A-Za-z0-9_.-]', '_', str(interval)))


# ---------------------------------------------------------------------- objects
class NvSet(object):
    """An nvpair set (instance_attributes or meta_attributes): its id and name -> (value, nvpair id)."""

    def __init__(self, tag, set_id, pairs=None):
        self.tag = tag
        self.id = set_id
        self.pairs = dict(pairs or {})  # name -> (value, id)

    def values(self):
        return dict((name, value) for name, (value, _id) in self.pairs.items())


class Op(object):
    def __init__(self, name, interval, attrs, op_id_=None):
        self.name = name
        self.interval = interval  # as written
        self.attrs = dict(attrs)  # every attribute but id, name, interval (as written)
        self.id = op_id_

    @property
    def key(self):
        return (self.name, duration_ms(self.interval))

    def norm(self):
        return dict((k, norm_attr(k, v)) for k, v in self.attrs.items())

    def element(self):
        attrs = [('id', self.id), ('name', self.name), ('interval', str(self.interval))]
        attrs += sorted(self.attrs.items())
        return _element('op', attrs)

    def text(self):
        parts = ['interval=%s' % self.interval] + ['%s=%s' % kv for kv in sorted(self.attrs.items())]
        return 'op %s %s' % (self.name, ' '.join(parts))


class Primitive(object):
    """A primitive: id, agent (class[:provider]:type), instance and meta sets, ops, parent clone id."""

    kind = 'primitive'
    scope = 'resources'

    def __init__(self, rid, agent, instance=None, meta=None, ops=None, parent=None):
        self.id = rid
        self.agent = agent
        self.instance = instance
        self.meta = meta
        self.ops = list(ops or [])
        self.parent = parent

    @classmethod
    def desired(cls, rid, agent, instance_attrs=None, meta_attrs=None, operations=None):
        instance = _desired_set('instance_attributes', rid, instance_attrs)
        meta = _desired_set('meta_attributes', rid, meta_attrs)
        ops = []
        for op in operations or []:
            name = op['action']
            interval = str(op.get('interval') if op.get('interval') is not None else '0s')
            attrs = dict((k, value_text(v)) for k, v in (op.get('attrs') or {}).items())
            for key in ('role', 'timeout'):
                if op.get(key) is not None:
                    attrs[key] = value_text(op[key])
            ops.append(Op(name, interval, attrs, op_id(rid, name, interval)))
        return cls(rid, agent, instance, meta, ops)

    def agent_parts(self):
        parts = self.agent.split(':')
        if parts[0] == 'ocf':
            if len(parts) != 3:
                raise ConfigError('primitive %s: agent %s is not ocf:PROVIDER:TYPE' % (self.id, self.agent))
            return [('class', 'ocf'), ('provider', parts[1]), ('type', parts[2])]
        if len(parts) != 2:
            raise ConfigError('primitive %s: agent %s is not CLASS:TYPE (or ocf:PROVIDER:TYPE)' % (
                self.id, self.agent))
        return [('class', parts[0]), ('type', parts[1])]

    def element(self):
        elem = _element('primitive', [('id', self.id)] + self.agent_parts())
        for nvset in (self.instance, self.meta):
            if nvset is not None and nvset.pairs:
                elem.append(_set_element(nvset, sorted(nvset.pairs)))
        if self.ops:
            ops = ET.SubElement(elem, 'operations')
            for op in sorted(self.ops, key=lambda o: o.key):
                ops.append(op.element())
        return elem

    def lines(self):
        kind = 'stonith' if self.agent.startswith('stonith:') else 'primitive'
        out = ['%s %s %s%s' % (kind, self.id, self.agent, ' (in clone %s)' % self.parent if self.parent else '')]
        out += _set_lines('params', self.instance)
        out += _set_lines('meta', self.meta)
        out += ['  ' + op.text() for op in sorted(self.ops, key=lambda o: o.key)]
        return out


class Clone(object):
    kind = 'clone'
    scope = 'resources'

    def __init__(self, cid, child, meta=None):
        self.id = cid
        self.child = child  # primitive id
        self.meta = meta

    @classmethod
    def desired(cls, cid, resource, promotable=False, meta_attrs=None):
        meta = dict(meta_attrs or {})
        if promotable:
            meta['promotable'] = True
        return cls(cid, resource, _desired_set('meta_attributes', cid, meta))

    def lines(self):
        return ['clone %s of %s' % (self.id, self.child)] + _set_lines('meta', self.meta)


class Constraint(object):
    scope = 'constraints'

    def __init__(self, tag, cid, attrs, rule=None):
        self.kind = tag
        self.id = cid
        self.attrs = dict((k, value_text(v)) for k, v in attrs.items() if v is not None)
        self.rule = rule  # a Rule (rsc_location only), or None

    def norm(self):
        out = dict((k, norm_attr(k, v)) for k, v in self.attrs.items())
        if self.rule is not None:
            out['rule'] = self.rule.norm()
        return out

    def element(self):
        elem = _element(self.kind, [('id', self.id)] + sorted(self.attrs.items()))
        if self.rule is not None:
            elem.append(self.rule.element('%s-rule' % self.id))
        return elem

    def lines(self):
        text = '%s %s %s' % (self.kind, self.id, ' '.join('%s=%s' % kv for kv in sorted(self.attrs.items())))
        return [text + (' rule: %s' % self.rule.text() if self.rule is not None else '')]


class Rule(object):
    """A location constraint's one rule of plain node-attribute expressions: its score, its
    boolean-op and (attribute, operation, value, type) expressions. Ids are not compared."""

    def __init__(self, score_, boolean_op, expressions):
        self.score = value_text(score_)
        self.boolean_op = boolean_op or 'and'
        self.expressions = [tuple(None if v is None else value_text(v) for v in e) for e in expressions]

    @classmethod
    def desired(cls, rule, what):
        exprs = []
        for expr in rule.get('expressions') or []:
            if expr.get('operation') not in ('defined', 'not_defined') and expr.get('value') is None:
                raise ConfigError('%s: expression on %s: operation %s needs a value' % (
                    what, expr.get('attribute'), expr.get('operation')))
            exprs.append((expr['attribute'], expr['operation'], expr.get('value'), expr.get('type')))
        if not exprs:
            raise ConfigError('%s: the rule has no expression' % what)
        return cls(rule['score'], rule.get('boolean_op'), exprs)

    @classmethod
    def read(cls, elem):
        """The Rule of a <rule> of plain expressions, or None for anything else (date expressions,
        nested rules, score-attribute, a role on the rule as DRBD's fence handler writes it): those
        constraints are not the module's to compare."""
        if elem.tag != 'rule' or elem.get('score') is None or not list(elem):
            return None
        if set(elem.attrib) - set(('id', 'score', 'boolean-op')):
            return None
        exprs = []
        for child in elem:
            if child.tag != 'expression' or child.get('value-source') not in (None, 'literal'):
                return None
            exprs.append((child.get('attribute'), child.get('operation'), child.get('value'), child.get('type')))
        return cls(elem.get('score'), elem.get('boolean-op'), exprs)

    def norm(self):
        return (score(self.score), self.boolean_op, tuple(self.expressions))

    def element(self, rule_id):
        elem = _element('rule', [('id', rule_id), ('score', self.score), ('boolean-op', self.boolean_op)])
        for i, (attr, op, value, type_) in enumerate(self.expressions, 1):
            elem.append(_element('expression', [('id', '%s-expr-%d' % (rule_id, i)), ('attribute', attr),
                                                ('operation', op), ('value', value), ('type', type_)]))
        return elem

    def text(self):
        exprs = (' %s ' % self.boolean_op).join(
            ' '.join(v for v in (attr, op, value) if v is not None) + (' (%s)' % type_ if type_ else '')
            for attr, op, value, type_ in self.expressions)
        return 'score=%s %s' % (self.score, exprs)


class Config(object):
    """A CIB configuration as objects: resources (by id), constraints (by id), crm_config and
    rsc_defaults (name -> value)."""

    def __init__(self):
        self.primitives = {}
        self.clones = {}
        self.constraints = {}
        self.crm_config = {}
        self.rsc_defaults = {}
        self.other_ids = {}  # id -> tag of every other element with an id (groups, bundles, ...)

    def resource(self, rid):
        return self.primitives.get(rid) or self.clones.get(rid)


def _element(tag, attrs):
    elem = ET.Element(tag)
    for name, value in attrs:
        if value is not None:
            elem.set(name, value_text(value))
    return elem


def _set_element(nvset, names):
    elem = _element(nvset.tag, [('id', nvset.id)])
    for name in names:
        value, nid = nvset.pairs[name]
        elem.append(_element('nvpair', [('id', nid), ('name', name), ('value', value)]))
    return elem


def _set_lines(label, nvset):
    if nvset is None or not nvset.pairs:
        return []
    return ['  %s %s' % (label, ' '.join('%s=%s' % (n, nvset.pairs[n][0]) for n in sorted(nvset.pairs)))]


def _desired_set(tag, rid, values):
    set_id = '%s-%s' % (rid, tag)
    return NvSet(tag, set_id, dict(
        (name, (value_text(value), nvpair_id(set_id, name))) for name, value in (values or {}).items()))


def to_text(elem):
    return ET.tostring(elem, encoding='unicode') if str is not bytes else ET.tostring(elem)


# ---------------------------------------------------------------------- reading the CIB
def _read_set(parent, tag):
    """The first nvpair set of that tag (the one Pacemaker's tools write to), or None."""
    elem = parent.find(tag)
    if elem is None:
        return None
    pairs = {}
    for nv in elem.findall('nvpair'):
        if nv.get('name') is not None and nv.get('name') not in pairs:
            pairs[nv.get('name')] = (nv.get('value', ''), nv.get('id'))
    return NvSet(tag, elem.get('id'), pairs)


def _read_primitive(elem, parent=None):
    cls, provider, rtype = elem.get('class'), elem.get('provider'), elem.get('type')
    agent = ':'.join(p for p in (cls, provider, rtype) if p)
    ops = []
    operations = elem.find('operations')
    for op in (operations.findall('op') if operations is not None else []):
        attrs = dict((k, v) for k, v in op.attrib.items() if k not in ('id', 'name', 'interval'))
        ops.append(Op(op.get('name'), op.get('interval', '0'), attrs, op.get('id')))
    return Primitive(elem.get('id'), agent, _read_set(elem, 'instance_attributes'),
                     _read_set(elem, 'meta_attributes'), ops, parent)


def parse_config(text):
    """The configuration cibadmin printed (``--query --scope configuration``, or a whole CIB)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise CibParseError('the CIB is not XML: %s' % exc)
    if root.tag == 'cib':
        root = root.find('configuration')
    if root is None or root.tag != 'configuration':
        raise CibParseError('no <configuration> in the CIB cibadmin gave')
    config = Config()
    for elem in root.iter():
        if elem.get('id') is not None:
            config.other_ids.setdefault(elem.get('id'), elem.tag)
    resources = root.find('resources')
    for elem in (list(resources) if resources is not None else []):
        if elem.tag == 'primitive':
            config.primitives[elem.get('id')] = _read_primitive(elem)
        elif elem.tag in ('clone', 'master'):
            child = elem.find('primitive')
            meta = _read_set(elem, 'meta_attributes')
            if elem.tag == 'master':  # the deprecated spelling of a promotable clone
                meta = meta or NvSet('meta_attributes', None)
                meta.pairs.setdefault('promotable', ('true', None))
            config.clones[elem.get('id')] = Clone(elem.get('id'), child.get('id') if child is not None else None, meta)
            if child is not None:
                config.primitives[child.get('id')] = _read_primitive(child, elem.get('id'))
    constraints = root.find('constraints')
    for elem in (list(constraints) if constraints is not None else []):
        attrs = dict((k, v) for k, v in elem.attrib.items() if k != 'id')
        rule = Rule.read(elem[0]) if elem.tag == 'rsc_location' and len(elem) == 1 else None
        if elem.tag in CONSTRAINT_TAGS and (not list(elem) or rule is not None):
            config.constraints[elem.get('id')] = Constraint(elem.tag, elem.get('id'), attrs, rule)
    crm = root.find('crm_config')
    for cps in (crm.findall('cluster_property_set') if crm is not None else []):
        if cps.get('id') == CRM_CONFIG_SET:
            for nv in cps.findall('nvpair'):
                config.crm_config.setdefault(nv.get('name'), nv.get('value', ''))
    defaults = root.find('rsc_defaults')
    for ma in (defaults.findall('meta_attributes') if defaults is not None else []):
        for nv in ma.findall('nvpair'):
            config.rsc_defaults.setdefault(nv.get('name'), nv.get('value', ''))
    return config


# ---------------------------------------------------------------------- the desired objects
class Desired(object):
    """What the module's options ask for, checked for consistency."""

    def __init__(self, primitives=(), clones=(), colocations=(), orders=(), crm_config=None, rsc_defaults=None,
                 locations=()):
        self.primitives = {}
        self.clones = {}
        self.constraints = {}
        self.crm_config = dict((k, value_text(v)) for k, v in (crm_config or {}).items())
        self.rsc_defaults = dict((k, value_text(v)) for k, v in (rsc_defaults or {}).items())
        seen = {}

        def claim(oid, what):
            if not oid or not ID_OK.match(oid):
                raise ConfigError('%s: %r is not a valid XML id (a letter or _, then letters, digits, _ . -)' % (
                    what, oid))
            if oid in seen:
                raise ConfigError('%s %s: the id is also used by %s' % (what, oid, seen[oid]))
            seen[oid] = what

        for p in primitives:
            claim(p['id'], 'primitive')
            prim = Primitive.desired(p['id'], p['agent'], p.get('instance_attrs'), p.get('meta_attrs'),
                                     p.get('operations'))
            prim.agent_parts()
            keys = [op.key for op in prim.ops]
            if len(set(keys)) != len(keys):
                raise ConfigError('primitive %s: two operations with the same name and interval' % p['id'])
            self.primitives[p['id']] = prim
        for c in clones:
            claim(c['id'], 'clone')
            child = self.primitives.get(c['resource'])
            if child is None:
                raise ConfigError('clone %s: resource %s is not one of the primitives' % (c['id'], c['resource']))
            if child.parent:
                raise ConfigError('clone %s: primitive %s is already in clone %s' % (c['id'], child.id, child.parent))
            child.parent = c['id']
            self.clones[c['id']] = Clone.desired(c['id'], c['resource'], c.get('promotable'), c.get('meta_attrs'))
        for c in colocations:
            claim(c['id'], 'rsc_colocation')
            attrs = [('rsc', c['rsc']), ('with-rsc', c['with_rsc']), ('score', c.get('score', 'INFINITY')),
                     ('rsc-role', c.get('rsc_role')), ('with-rsc-role', c.get('with_rsc_role'))]
            self.constraints[c['id']] = Constraint('rsc_colocation', c['id'], dict(attrs))
        for o in orders:
            claim(o['id'], 'rsc_order')
            attrs = [('first', o['first']), ('then', o['then']), ('first-action', o.get('first_action', 'start')),
                     ('then-action', o.get('then_action', 'start')), ('kind', o.get('kind', 'Mandatory'))]
            self.constraints[o['id']] = Constraint('rsc_order', o['id'], dict(attrs))
        for loc in locations:
            claim(loc['id'], 'rsc_location')
            what = 'rsc_location %s' % loc['id']
            if bool(loc.get('node')) == bool(loc.get('rule')):
                raise ConfigError('%s: give either node (and score) or rule' % what)
            if loc.get('rule'):
                if loc.get('score') is not None:
                    raise ConfigError('%s: the score of a rule-based location is the rule\'s (rule.score)' % what)
                attrs = [('rsc', loc['rsc']), ('role', loc.get('role'))]
                rule = Rule.desired(loc['rule'], what)
            else:
                attrs = [('rsc', loc['rsc']), ('node', loc['node']), ('score', loc.get('score') or 'INFINITY'),
                         ('role', loc.get('role'))]
                rule = None
            self.constraints[loc['id']] = Constraint('rsc_location', loc['id'], dict(attrs), rule)
        resources = set(self.clones) | set(self.primitives)
        for con in self.constraints.values():
            for key in ('rsc', 'with-rsc', 'first', 'then'):
                ref = con.attrs.get(key)
                if ref is not None and ref not in resources:
                    raise ConfigError('%s %s: %s %s is not one of the resources' % (con.kind, con.id, key, ref))
                if ref in self.primitives and self.primitives[ref].parent:
                    raise ConfigError('%s %s: %s %s is inside clone %s: name the clone' % (
                        con.kind, con.id, key, ref, self.primitives[ref].parent))

    def top_resources(self):
        """Standalone primitives and clones, in a stable order (stonith first, then by id)."""
        tops = [p for p in self.primitives.values() if not p.parent] + list(self.clones.values())
        return sorted(tops, key=lambda r: (not getattr(r, 'agent', '').startswith('stonith:'), r.id))

    def clone_element(self, clone):
        elem = _element('clone', [('id', clone.id)])
        if clone.meta is not None and clone.meta.pairs:
            elem.append(_set_element(clone.meta, sorted(clone.meta.pairs)))
        elem.append(self.primitives[clone.child].element())
        return elem


# ---------------------------------------------------------------------- planning
class Action(object):
    """One command: tool (cibadmin or crm_attribute), its arguments, the object it touches and
    a sentence saying what it does."""

    def __init__(self, tool, args, obj, sentence):
        self.tool = tool
        self.args = list(args)
        self.obj = obj
        self.sentence = sentence

    def __repr__(self):
        return 'Action(%r, %r)' % (self.tool, self.args)


def _cibadmin(op, scope, elem, obj, sentence):
    args = ['--%s' % op]
    if scope:
        args += ['--scope', scope]
    return Action('cibadmin', args + ['--xml-text', to_text(elem)], obj, sentence)


def _path(prim):
    """The outer element of the skeleton that leads to a primitive (its clone when it has one)
    and the element of the primitive inside it."""
    if prim.parent:
        outer = _element('clone', [('id', prim.parent)])
        inner = ET.SubElement(outer, 'primitive', {'id': prim.id})
        return outer, inner
    inner = _element('primitive', [('id', prim.id)])
    return inner, inner


def _set_changes(live_set, want_set, exact):
    """(names to set, nvpair ids to delete) for a set."""
    live = live_set.pairs if live_set is not None else {}
    to_set = sorted(n for n, (v, _i) in want_set.pairs.items() if n not in live or live[n][0] != v)
    to_delete = sorted((n, live[n][1]) for n in live if n not in want_set.pairs and exact) if live else []
    return to_set, to_delete


def _modify_sets(outer_of, label, live_obj, want_obj, sets):
    """The modify (and deletes) that bring a resource's nvpair sets to the wanted values.

    sets: [(attribute name on the objects, exact)]."""
    actions, said = [], []
    outer, inner = outer_of()
    for attr, exact in sets:
        live_set, want_set = getattr(live_obj, attr), getattr(want_obj, attr)
        if want_set is None:
            continue
        to_set, to_delete = _set_changes(live_set, want_set, exact)
        if to_set:
            set_id = live_set.id if live_set is not None and live_set.id else want_set.id
            elem = ET.SubElement(inner, want_set.tag, {'id': set_id})
            for name in to_set:
                live_id = live_set.pairs[name][1] if live_set is not None and name in live_set.pairs else None
                nid = live_id or nvpair_id(set_id, name)
                elem.append(_element('nvpair', [('id', nid), ('name', name), ('value', want_set.pairs[name][0])]))
                said.append('%s %s=%s' % ('params' if attr == 'instance' else 'meta', name, want_set.pairs[name][0]))
        for name, nid in to_delete:
            actions.append(_cibadmin('delete', None, _element('nvpair', [('id', nid)]), label,
                                     '%s: remove params %s' % (label, name)))
    if said:
        actions.insert(0, _cibadmin('modify', 'resources', outer, label, '%s: set %s' % (label, ', '.join(said))))
    return actions


def _primitive_actions(live_prim, want, label):
    actions = _modify_sets(lambda: _path(want), label, live_prim, want,
                           [('instance', True), ('meta', False)])
    live_ops = dict((op.key, op) for op in live_prim.ops)
    want_ops = dict((op.key, op) for op in want.ops)
    new_ops = []
    for key in sorted(want_ops):
        op = want_ops[key]
        old = live_ops.get(key)
        if old is None:
            new_ops.append(op)
        elif old.norm() != op.norm():
            if set(old.norm()) - set(op.norm()):
                rebuilt = Op(op.name, op.interval, op.attrs, old.id)
                actions.append(_cibadmin('replace', 'resources', rebuilt.element(), label,
                                         '%s: replace %s' % (label, rebuilt.text())))
            else:
                new_ops.append(Op(op.name, old.interval, op.attrs, old.id))
    if new_ops:
        outer, inner = _path(want)
        ops = ET.SubElement(inner, 'operations')
        for op in new_ops:
            ops.append(op.element())
        actions.append(_cibadmin('modify', 'resources', outer, label, '%s: set %s' % (
            label, '; '.join(op.text() for op in new_ops))))
    for key in sorted(set(live_ops) - set(want_ops)):
        old = live_ops[key]
        actions.append(_cibadmin('delete', None, _element('op', [('id', old.id)]), label,
                                 '%s: remove %s' % (label, old.text())))
    return actions


def _where(parent):
    return 'in clone %s' % parent if parent else 'not in a clone'


def _check_resource(live, want):
    """ConflictError when the live resource of that id cannot become the wanted one in place."""
    label = '%s %s' % (want.kind, want.id)
    if want.kind == 'primitive':
        if not isinstance(live, Primitive):
            raise ConflictError('%s: the CIB has a %s of that id; delete it first (this module never re-creates '
                                'a resource)' % (label, live.kind))
        if live.agent != want.agent:
            raise ConflictError('%s: the CIB has it as %s, not %s; changing the agent means deleting and '
                                're-creating the resource (it stops): do it by hand' % (label, live.agent, want.agent))
        if live.parent != want.parent:
            raise ConflictError('%s: the CIB has it %s, wanted %s; moving a resource into or out of a clone '
                                're-creates it: do it by hand' % (label, _where(live.parent), _where(want.parent)))
    else:
        if not isinstance(live, Clone):
            raise ConflictError('%s: the CIB has a %s of that id; delete it first' % (label, live.kind))
        if live.child != want.child:
            raise ConflictError('%s: the CIB clones %s, not %s: do it by hand' % (label, live.child, want.child))


def plan(live, desired, purge=False):
    """The actions that bring the live Config to the Desired objects, in the order to run them."""
    actions = []
    for name in sorted(desired.crm_config):
        value = desired.crm_config[name]
        if live.crm_config.get(name) != value:
            actions.append(Action('crm_attribute', ['--type', 'crm_config', '--name', name, '--update', value],
                                  'crm_config %s' % name, 'crm_config: set %s=%s' % (name, value)))
    for name in sorted(desired.rsc_defaults):
        value = desired.rsc_defaults[name]
        if live.rsc_defaults.get(name) != value:
            actions.append(Action('crm_attribute', ['--type', 'rsc_defaults', '--name', name, '--update', value],
                                  'rsc_defaults %s' % name, 'rsc_defaults: set %s=%s' % (name, value)))
    resource_actions = []
    for want in desired.top_resources():
        label = '%s %s' % (want.kind, want.id)
        wanted = [want] + ([desired.primitives[want.child]] if want.kind == 'clone' else [])
        for obj in wanted:
            live_obj = live.resource(obj.id)
            if live_obj is None and obj.id in live.other_ids:
                raise ConflictError('%s %s: the id is taken in the CIB by a %s' % (
                    obj.kind, obj.id, live.other_ids[obj.id]))
            if live_obj is not None:
                _check_resource(live_obj, obj)
        if live.resource(want.id) is None:
            elem = desired.clone_element(want) if want.kind == 'clone' else want.element()
            resource_actions.append(_cibadmin('create', 'resources', elem, label, '%s: create' % label))
            continue
        if want.kind == 'clone':
            live_clone = live.clones[want.id]
            resource_actions += _modify_sets(lambda: (_element('clone', [('id', want.id)]),) * 2, label,
                                             live_clone, want, [('meta', False)])
            child = desired.primitives[want.child]
            resource_actions += _primitive_actions(live.primitives[child.id], child, 'primitive %s' % child.id)
        else:
            resource_actions += _primitive_actions(live.primitives[want.id], want, label)
    constraint_actions = []
    for cid in sorted(desired.constraints):
        want = desired.constraints[cid]
        label = '%s %s' % (want.kind, cid)
        old = live.constraints.get(cid)
        if old is None:
            if cid in live.other_ids:
                raise ConflictError('%s: the id is taken in the CIB by a %s' % (label, live.other_ids[cid]))
            constraint_actions.append(_cibadmin('create', 'constraints', want.element(), label, '%s: create' % label))
        elif old.kind != want.kind:
            raise ConflictError('%s: the CIB has a %s of that id; delete it first' % (label, old.kind))
        elif old.norm() != want.norm():
            constraint_actions.append(_cibadmin('replace', 'constraints', want.element(), label,
                                                '%s: replace (%s)' % (label, want.lines()[0])))
    purge_actions = []
    if purge:
        for cid in sorted(set(live.constraints) - set(desired.constraints)):
            old = live.constraints[cid]
            if old.kind in KEPT_BY_PURGE:
                continue
            purge_actions.append(_cibadmin('delete', None, _element(old.kind, [('id', cid)]), '%s %s' % (
                old.kind, cid), '%s %s: delete (purge)' % (old.kind, cid)))
        wanted_ids = set(desired.primitives) | set(desired.clones)
        for rid in sorted(live.clones):
            if rid not in wanted_ids:
                purge_actions.append(_cibadmin('delete', None, _element('clone', [('id', rid)]), 'clone %s' % rid,
                                               'clone %s: delete (purge; Pacemaker stops it)' % rid))
        for rid in sorted(live.primitives):
            prim = live.primitives[rid]
            if rid not in wanted_ids and not prim.parent:
                purge_actions.append(_cibadmin('delete', None, _element('primitive', [('id', rid)]),
                                               'primitive %s' % rid,
                                               'primitive %s: delete (purge; Pacemaker stops it)' % rid))
    # constraints go before the resources they name are deleted, resources before constraints name them
    return actions + purge_actions + resource_actions + constraint_actions


# ---------------------------------------------------------------------- describing (diff)
def _merged_set(live_set, want_set, exact):
    if want_set is None:
        return live_set
    pairs = {} if exact or live_set is None else dict(live_set.pairs)
    pairs.update(want_set.pairs)
    return NvSet(want_set.tag, want_set.id, pairs)


def describe(config, desired, purge=False, after=False):
    """The objects the module manages, one block per object: what the CIB has (after=False) or
    what it will have once the plan is applied (after=True)."""
    lines = []
    names = sorted(desired.crm_config)
    for name in names:
        value = desired.crm_config[name] if after else config.crm_config.get(name)
        if value is not None:
            lines.append('crm_config %s=%s' % (name, value))
    for name in sorted(desired.rsc_defaults):
        value = desired.rsc_defaults[name] if after else config.rsc_defaults.get(name)
        if value is not None:
            lines.append('rsc_defaults %s=%s' % (name, value))
    ids = set(desired.primitives) | set(desired.clones)
    if purge and not after:
        ids |= set(config.clones) | set(p for p in config.primitives if not config.primitives[p].parent)
    tops = []
    for rid in ids:
        if after and rid in desired.clones:
            live = config.clones.get(rid)
            want = desired.clones[rid]
            tops.append(Clone(rid, want.child, _merged_set(live.meta if live else None, want.meta, False)))
        elif after and rid in desired.primitives:
            live = config.primitives.get(rid)
            want = desired.primitives[rid]
            tops.append(Primitive(rid, want.agent, _merged_set(live.instance if live else None, want.instance, True),
                                  _merged_set(live.meta if live else None, want.meta, False), want.ops, want.parent))
        elif not after and config.resource(rid) is not None:
            tops.append(config.resource(rid))
    for obj in sorted(tops, key=lambda o: (getattr(o, 'parent', None) or o.id, o.kind != 'clone', o.id)):
        lines += obj.lines()
    purged = set(c for c in config.constraints if config.constraints[c].kind not in KEPT_BY_PURGE)
    cids = set(desired.constraints) | (purged if purge and not after else set())
    for cid in sorted(cids):
        obj = desired.constraints[cid] if after else config.constraints.get(cid)
        if obj is not None:
            lines += obj.lines()
    return '\n'.join(lines) + ('\n' if lines else '')
