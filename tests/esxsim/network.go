// The host's standard switches, port groups and VMkernel NICs, with the IPoIB uplinks of Mellanox's OFED
// bundle (driver ib_ipoib) among the physical NICs: HostNetworkSystem.AddVirtualSwitch (a bond bridge of the
// uplinks), UpdateVirtualSwitch, RemoveVirtualSwitch, AddPortGroup, UpdatePortGroup, RemovePortGroup,
// AddVirtualNic, UpdateVirtualNic, RemoveVirtualNic, and HostVirtualNicManager.QueryNetConfig /
// SelectVnicForNicType / DeselectVnicForNicType. networkInfo and host.config.network are kept equal after each
// change (stock vcsim keeps a start-up copy in host.config.network and answers MethodNotFound for most of
// these). Written from the vSphere API reference, not recorded from a real host.
package main

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

type vmnicConfig struct {
	Device  string `json:"device"`
	Driver  string `json:"driver"`
	Pci     string `json:"pci"`
	Mac     string `json:"mac"`
	SpeedMb int32  `json:"speed_mb"`
	// The largest MTU the driver takes (IPoIB datagram mode: the IB MTU less the 4-byte IPoIB header)
	MaxMTU int32 `json:"max_mtu"`
}

// The VMkernel NIC types of the stock host's VirtualNicManagerInfo (ESXi 6.5's); others are InvalidArgument
var nicTypes = []string{"faultToleranceLogging", "management", "vSphereProvisioning", "vSphereReplication",
	"vSphereReplicationNFC", "vmotion", "vsan", "vsanWitness"}

// The TCP/IP stacks of an ESXi 6.x host
var netStacks = []string{"defaultTcpipStack", "vmotion", "vSphereProvisioning"}

type netSystem struct {
	*simulator.HostNetworkSystem
	mu        sync.Mutex
	base      types.HostNetworkInfo
	pnics     []types.PhysicalNic
	maxMTU    map[string]int32
	vswitches []types.HostVirtualSwitch
	pgs       []types.HostPortGroup
	vnics     []types.HostVirtualNic
	selected  map[string][]string // nic type -> vmk devices
	vnicMgr   *vnicManager
}

type vnicManager struct {
	mo.HostVirtualNicManager
	net *netSystem
}

func defaultPolicy(nics []string) *types.HostNetworkPolicy {
	return &types.HostNetworkPolicy{
		Security: &types.HostNetworkSecurityPolicy{AllowPromiscuous: types.NewBool(false),
			MacChanges: types.NewBool(true), ForgedTransmits: types.NewBool(true)},
		NicTeaming: &types.HostNicTeamingPolicy{Policy: "loadbalance_srcid", ReversePolicy: types.NewBool(true),
			NotifySwitches: types.NewBool(true), RollingOrder: types.NewBool(false),
			FailureCriteria: &types.HostNicFailureCriteria{CheckSpeed: "minimum", Speed: 10,
				CheckDuplex: types.NewBool(false), FullDuplex: types.NewBool(false),
				CheckErrorPercent: types.NewBool(false), Percentage: 0, CheckBeacon: types.NewBool(false)},
			NicOrder: &types.HostNicOrderPolicy{ActiveNic: append([]string{}, nics...)}},
		OffloadPolicy: &types.HostNetOffloadCapabilities{CsumOffload: types.NewBool(true),
			TcpSegmentation: types.NewBool(true), ZeroCopyXmit: types.NewBool(true)},
		ShapingPolicy: &types.HostNetworkTrafficShapingPolicy{Enabled: types.NewBool(false)},
	}
}

func newNetSystem(stock *simulator.HostNetworkSystem, host *simulator.HostSystem, vmnics []vmnicConfig) *netSystem {
	base := *esx.HostConfigInfo.Network
	n := &netSystem{HostNetworkSystem: stock, base: base, maxMTU: map[string]int32{}, selected: map[string][]string{}}
	n.pnics = append(n.pnics, base.Pnic...)
	for i, v := range vmnics {
		if v.Driver == "" {
			v.Driver = "ib_ipoib"
		}
		if v.SpeedMb == 0 {
			v.SpeedMb = 40000
		}
		if v.MaxMTU == 0 {
			v.MaxMTU = 4092
		}
		if v.Pci == "" {
			v.Pci = fmt.Sprintf("0000:04:00.%d", i)
		}
		if v.Mac == "" {
			v.Mac = fmt.Sprintf("00:02:c9:21:c0:%02x", 0xd1+i)
		}
		link := types.PhysicalNicLinkInfo{SpeedMb: v.SpeedMb, Duplex: true}
		n.pnics = append(n.pnics, types.PhysicalNic{Key: "key-vim.host.PhysicalNic-" + v.Device, Device: v.Device,
			Pci: v.Pci, Driver: v.Driver, LinkSpeed: &link, ValidLinkSpecification: []types.PhysicalNicLinkInfo{link},
			Spec: types.PhysicalNicSpec{Ip: &types.HostIpConfig{}, LinkSpeed: &link}, Mac: v.Mac})
		n.maxMTU[v.Device] = v.MaxMTU
	}
	for _, vs := range base.Vswitch {
		vs.Portgroup = append([]string{}, vs.Portgroup...)
		vs.Pnic = append([]string{}, vs.Pnic...)
		n.vswitches = append(n.vswitches, vs)
	}
	n.pgs = append(n.pgs, base.Portgroup...)
	n.vnics = append(n.vnics, base.Vnic...)
	for _, nc := range esx.HostConfigInfo.VirtualNicManagerInfo.NetConfig {
		for _, key := range nc.SelectedVnic {
			n.selected[nc.NicType] = append(n.selected[nc.NicType], key[strings.LastIndex(key, "-")+1:])
		}
	}
	n.vnicMgr = &vnicManager{net: n}
	n.vnicMgr.Self = *host.ConfigManager.VirtualNicManager
	return n
}

func (n *netSystem) pnicKeys(devices []string) []string {
	keys := []string{}
	for _, d := range devices {
		keys = append(keys, "key-vim.host.PhysicalNic-"+d)
	}
	return keys
}

func (n *netSystem) pnic(device string) *types.PhysicalNic {
	for i := range n.pnics {
		if n.pnics[i].Device == device {
			return &n.pnics[i]
		}
	}
	return nil
}

func (n *netSystem) vswitch(name string) int {
	for i := range n.vswitches {
		if n.vswitches[i].Name == name {
			return i
		}
	}
	return -1
}

func (n *netSystem) pg(name string) int {
	for i := range n.pgs {
		if n.pgs[i].Spec.Name == name {
			return i
		}
	}
	return -1
}

func (n *netSystem) vnic(device string) int {
	for i := range n.vnics {
		if n.vnics[i].Device == device {
			return i
		}
	}
	return -1
}

func bridgeNics(spec types.HostVirtualSwitchSpec) []string {
	if b, ok := spec.Bridge.(*types.HostVirtualSwitchBondBridge); ok && b != nil {
		return b.NicDevice
	}
	return nil
}

// checkSpec: a vSwitch spec's uplinks exist, are not another switch's, and take its MTU
func (n *netSystem) checkSpec(name string, spec *types.HostVirtualSwitchSpec) *soap.Fault {
	if spec.NumPorts < 0 || spec.NumPorts > 4088 {
		return simulator.Fault(fmt.Sprintf("numPorts %d is out of range (0-4088)", spec.NumPorts), &types.InvalidArgument{InvalidProperty: "spec.numPorts"})
	}
	mtu := spec.Mtu
	if mtu == 0 {
		mtu = 1500
	}
	if mtu < 1280 || mtu > 9000 {
		return simulator.Fault(fmt.Sprintf("MTU %d is out of range (1280-9000)", mtu), &types.InvalidArgument{InvalidProperty: "spec.mtu"})
	}
	for _, d := range bridgeNics(*spec) {
		if n.pnic(d) == nil {
			return simulator.Fault(fmt.Sprintf("no physical NIC %s on this host", d), &types.NotFound{})
		}
		for _, vs := range n.vswitches {
			if vs.Name == name {
				continue
			}
			for _, k := range vs.Pnic {
				if k == "key-vim.host.PhysicalNic-"+d {
					return simulator.Fault(fmt.Sprintf("%s is an uplink of %s already", d, vs.Name), &types.ResourceInUse{Name: d})
				}
			}
		}
		if max, ok := n.maxMTU[d]; ok && mtu > max {
			p := n.pnic(d)
			return simulator.Fault(fmt.Sprintf("Unable to set MTU %d on %s: its driver %s takes at most %d", mtu, d, p.Driver, max),
				&types.PlatformConfigFault{Text: fmt.Sprintf("MTU %d > %d (%s)", mtu, max, d)})
		}
	}
	return nil
}

func (n *netSystem) applySpec(vs *types.HostVirtualSwitch, spec types.HostVirtualSwitchSpec) {
	nics := bridgeNics(spec)
	if spec.Policy == nil {
		spec.Policy = defaultPolicy(nics)
	} else {
		def := defaultPolicy(nics)
		if spec.Policy.Security == nil {
			spec.Policy.Security = def.Security
		}
		if spec.Policy.NicTeaming == nil {
			spec.Policy.NicTeaming = def.NicTeaming
		}
		if spec.Policy.OffloadPolicy == nil {
			spec.Policy.OffloadPolicy = def.OffloadPolicy
		}
		if spec.Policy.ShapingPolicy == nil {
			spec.Policy.ShapingPolicy = def.ShapingPolicy
		}
	}
	if spec.Mtu == 0 {
		spec.Mtu = 1500
	}
	if spec.NumPorts == 0 {
		spec.NumPorts = 128
	}
	vs.Spec = spec
	vs.Mtu = spec.Mtu
	vs.NumPorts = spec.NumPorts
	vs.Pnic = n.pnicKeys(nics)
}

// pgPolicy: a port group's policy as ESX gives it back, every part there, unset fields meaning "inherit
// from the vSwitch" (as the stock host's "VM Network")
func pgPolicy(p types.HostNetworkPolicy) types.HostNetworkPolicy {
	if p.Security == nil {
		p.Security = &types.HostNetworkSecurityPolicy{}
	}
	if p.NicTeaming == nil {
		p.NicTeaming = &types.HostNicTeamingPolicy{}
	}
	if p.NicTeaming.FailureCriteria == nil {
		p.NicTeaming.FailureCriteria = &types.HostNicFailureCriteria{}
	}
	if p.OffloadPolicy == nil {
		p.OffloadPolicy = &types.HostNetOffloadCapabilities{}
	}
	if p.ShapingPolicy == nil {
		p.ShapingPolicy = &types.HostNetworkTrafficShapingPolicy{}
	}
	return p
}

func (n *netSystem) computed(pg types.HostPortGroupSpec) types.HostNetworkPolicy {
	i := n.vswitch(pg.VswitchName)
	if i < 0 {
		return pg.Policy
	}
	sw := *defaultPolicy(nil)
	if p := n.vswitches[i].Spec.Policy; p != nil {
		if p.Security != nil {
			sw.Security = p.Security
		}
		if p.NicTeaming != nil {
			sw.NicTeaming = p.NicTeaming
		}
		if p.OffloadPolicy != nil {
			sw.OffloadPolicy = p.OffloadPolicy
		}
		if p.ShapingPolicy != nil {
			sw.ShapingPolicy = p.ShapingPolicy
		}
	}
	out := types.HostNetworkPolicy{}
	sec, team, shape := *sw.Security, *sw.NicTeaming, *sw.ShapingPolicy
	if p := pg.Policy.Security; p != nil {
		if p.AllowPromiscuous != nil {
			sec.AllowPromiscuous = p.AllowPromiscuous
		}
		if p.MacChanges != nil {
			sec.MacChanges = p.MacChanges
		}
		if p.ForgedTransmits != nil {
			sec.ForgedTransmits = p.ForgedTransmits
		}
	}
	if p := pg.Policy.NicTeaming; p != nil {
		if p.Policy != "" {
			team.Policy = p.Policy
		}
		if p.NotifySwitches != nil {
			team.NotifySwitches = p.NotifySwitches
		}
		if p.RollingOrder != nil {
			team.RollingOrder = p.RollingOrder
		}
		if p.NicOrder != nil {
			team.NicOrder = p.NicOrder
		}
		if p.FailureCriteria != nil && p.FailureCriteria.CheckBeacon != nil {
			team.FailureCriteria = p.FailureCriteria
		}
	}
	if p := pg.Policy.ShapingPolicy; p != nil && p.Enabled != nil {
		shape = *p
	}
	out.Security, out.NicTeaming, out.ShapingPolicy, out.OffloadPolicy = &sec, &team, &shape, sw.OffloadPolicy
	return out
}

// publish: networkInfo and host.config.network (and virtualNicManagerInfo) from the state; n.mu held
func (n *netSystem) publish() {
	info := n.base
	info.Pnic = append([]types.PhysicalNic{}, n.pnics...)
	info.Vswitch = nil
	for _, vs := range n.vswitches {
		vs.Portgroup = nil
		used := int32(0)
		for _, pg := range n.pgs {
			if pg.Spec.VswitchName == vs.Name {
				vs.Portgroup = append(vs.Portgroup, "key-vim.host.PortGroup-"+pg.Spec.Name)
			}
		}
		for _, v := range n.vnics {
			if i := n.pg(v.Portgroup); i >= 0 && n.pgs[i].Spec.VswitchName == vs.Name {
				used++
			}
		}
		vs.NumPortsAvailable = vs.NumPorts - used - int32(len(vs.Pnic)) - 8 // 8: ESX's own ports on every vSwitch
		if vs.NumPortsAvailable < 0 {
			vs.NumPortsAvailable = 0
		}
		info.Vswitch = append(info.Vswitch, vs)
	}
	info.Portgroup = nil
	for _, pg := range n.pgs {
		pg.Key = "key-vim.host.PortGroup-" + pg.Spec.Name
		pg.Vswitch = "key-vim.host.VirtualSwitch-" + pg.Spec.VswitchName
		pg.ComputedPolicy = n.computed(pg.Spec)
		pg.Port = nil
		for _, v := range n.vnics {
			if v.Portgroup == pg.Spec.Name {
				pg.Port = append(pg.Port, types.HostPortGroupPort{Key: v.Port, Mac: []string{v.Spec.Mac}, Type: "host"})
			}
		}
		info.Portgroup = append(info.Portgroup, pg)
	}
	info.Vnic = append([]types.HostVirtualNic{}, n.vnics...)
	n.NetworkInfo = &info
	// networkConfig: the same, as a configuration (what UpdateNetworkConfig would take)
	nc := &types.HostNetworkConfig{}
	for _, vs := range info.Vswitch {
		nc.Vswitch = append(nc.Vswitch, types.HostVirtualSwitchConfig{Name: vs.Name, Spec: &vs.Spec})
	}
	for _, pg := range info.Portgroup {
		nc.Portgroup = append(nc.Portgroup, types.HostPortGroupConfig{Spec: &pg.Spec})
	}
	for _, p := range info.Pnic {
		nc.Pnic = append(nc.Pnic, types.PhysicalNicConfig{Device: p.Device, Spec: p.Spec})
	}
	for _, v := range info.Vnic {
		spec := v.Spec
		nc.Vnic = append(nc.Vnic, types.HostVirtualNicConfig{Device: v.Device, Portgroup: v.Portgroup, Spec: &spec})
	}
	n.NetworkConfig = nc
	mgrInfo := n.vnicMgr.netConfigs()
	n.vnicMgr.Info = *mgrInfo
	simulator.Map.WithLock(n.Host, func() {
		copied := info
		n.Host.Config.Network = &copied
		n.Host.Config.VirtualNicManagerInfo = mgrInfo
	})
}

func (n *netSystem) AddVirtualSwitch(req *types.AddVirtualSwitch) soap.HasFault {
	body := &methods.AddVirtualSwitchBody{}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.vswitch(req.VswitchName) >= 0 {
		body.Fault_ = simulator.Fault(fmt.Sprintf("vSwitch %s exists", req.VswitchName), &types.AlreadyExists{Name: req.VswitchName})
		return body
	}
	if req.VswitchName == "" || len(req.VswitchName) > 31 {
		body.Fault_ = simulator.Fault(fmt.Sprintf("invalid vSwitch name %q", req.VswitchName), &types.InvalidArgument{InvalidProperty: "vswitchName"})
		return body
	}
	spec := types.HostVirtualSwitchSpec{NumPorts: 128}
	if req.Spec != nil {
		spec = *req.Spec
	}
	if f := n.checkSpec(req.VswitchName, &spec); f != nil {
		body.Fault_ = f
		return body
	}
	vs := types.HostVirtualSwitch{Name: req.VswitchName, Key: "key-vim.host.VirtualSwitch-" + req.VswitchName}
	n.applySpec(&vs, spec)
	n.vswitches = append(n.vswitches, vs)
	n.publish()
	body.Res = &types.AddVirtualSwitchResponse{}
	return body
}

func (n *netSystem) UpdateVirtualSwitch(req *types.UpdateVirtualSwitch) soap.HasFault {
	body := &methods.UpdateVirtualSwitchBody{}
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.vswitch(req.VswitchName)
	if i < 0 {
		body.Fault_ = simulator.Fault(fmt.Sprintf("no vSwitch %s", req.VswitchName), &types.NotFound{})
		return body
	}
	spec := req.Spec
	if f := n.checkSpec(req.VswitchName, &spec); f != nil {
		body.Fault_ = f
		return body
	}
	n.applySpec(&n.vswitches[i], spec)
	n.publish()
	body.Res = &types.UpdateVirtualSwitchResponse{}
	return body
}

func (n *netSystem) RemoveVirtualSwitch(ctx *simulator.Context, req *types.RemoveVirtualSwitch) soap.HasFault {
	body := &methods.RemoveVirtualSwitchBody{}
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.vswitch(req.VswitchName)
	if i < 0 {
		body.Fault_ = simulator.Fault(fmt.Sprintf("no vSwitch %s", req.VswitchName), &types.NotFound{})
		return body
	}
	for _, v := range n.vnics {
		if j := n.pg(v.Portgroup); j >= 0 && n.pgs[j].Spec.VswitchName == req.VswitchName {
			body.Fault_ = simulator.Fault(fmt.Sprintf("%s is on %s", v.Device, req.VswitchName), &types.ResourceInUse{Name: req.VswitchName})
			return body
		}
	}
	kept := n.pgs[:0]
	for _, pg := range n.pgs {
		if pg.Spec.VswitchName == req.VswitchName {
			n.removeNetwork(ctx, pg.Spec.Name)
			continue
		}
		kept = append(kept, pg)
	}
	n.pgs = kept
	n.vswitches = append(n.vswitches[:i], n.vswitches[i+1:]...)
	n.publish()
	body.Res = &types.RemoveVirtualSwitchResponse{}
	return body
}

// removeNetwork: the port group's Network entity goes with it (the stock RemovePortGroup does that part)
func (n *netSystem) removeNetwork(ctx *simulator.Context, name string) {
	defer func() { _ = recover() }() // a port group with no Network entity (the stock one panics then)
	n.NetworkInfo.Portgroup = []types.HostPortGroup{{Spec: types.HostPortGroupSpec{Name: name}}}
	n.NetworkInfo.Vswitch = []types.HostVirtualSwitch{{Name: "-", Portgroup: []string{name}}}
	n.HostNetworkSystem.RemovePortGroup(ctx, &types.RemovePortGroup{PgName: name})
}

func (n *netSystem) AddPortGroup(ctx *simulator.Context, req *types.AddPortGroup) soap.HasFault {
	body := &methods.AddPortGroupBody{}
	n.mu.Lock()
	defer n.mu.Unlock()
	spec := req.Portgrp
	if n.pg(spec.Name) >= 0 {
		body.Fault_ = simulator.Fault(fmt.Sprintf("port group %s exists", spec.Name), &types.AlreadyExists{Name: spec.Name})
		return body
	}
	if n.vswitch(spec.VswitchName) < 0 {
		body.Fault_ = simulator.Fault(fmt.Sprintf("no vSwitch %s", spec.VswitchName), &types.NotFound{})
		return body
	}
	if spec.VlanId < 0 || spec.VlanId > 4095 {
		body.Fault_ = simulator.Fault(fmt.Sprintf("VLAN %d is out of range (0-4095)", spec.VlanId), &types.InvalidArgument{InvalidProperty: "portgrp.vlanId"})
		return body
	}
	// The stock AddPortGroup makes the port group's Network entity (host.network, the network folder)
	n.NetworkInfo.Vswitch = append(n.NetworkInfo.Vswitch, types.HostVirtualSwitch{Name: spec.VswitchName})
	if res := n.HostNetworkSystem.AddPortGroup(ctx, req); res.Fault() != nil {
		n.publish()
		return res
	}
	spec.Policy = pgPolicy(spec.Policy)
	n.pgs = append(n.pgs, types.HostPortGroup{Spec: spec})
	n.publish()
	body.Res = &types.AddPortGroupResponse{}
	return body
}

func (n *netSystem) UpdatePortGroup(req *types.UpdatePortGroup) soap.HasFault {
	body := &methods.UpdatePortGroupBody{}
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.pg(req.PgName)
	if i < 0 {
		body.Fault_ = simulator.Fault(fmt.Sprintf("no port group %s", req.PgName), &types.NotFound{})
		return body
	}
	if req.Portgrp.Name != req.PgName || n.vswitch(req.Portgrp.VswitchName) < 0 {
		body.Fault_ = simulator.Fault("renaming a port group or moving it to another vSwitch is not simulated",
			&types.InvalidArgument{InvalidProperty: "portgrp"})
		return body
	}
	n.pgs[i].Spec = req.Portgrp
	n.pgs[i].Spec.Policy = pgPolicy(req.Portgrp.Policy)
	n.publish()
	body.Res = &types.UpdatePortGroupResponse{}
	return body
}

func (n *netSystem) RemovePortGroup(ctx *simulator.Context, req *types.RemovePortGroup) soap.HasFault {
	body := &methods.RemovePortGroupBody{}
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.pg(req.PgName)
	if i < 0 {
		body.Fault_ = simulator.Fault(fmt.Sprintf("no port group %s", req.PgName), &types.NotFound{})
		return body
	}
	for _, v := range n.vnics {
		if v.Portgroup == req.PgName {
			body.Fault_ = simulator.Fault(fmt.Sprintf("%s is on %s", v.Device, req.PgName), &types.ResourceInUse{Name: req.PgName})
			return body
		}
	}
	n.removeNetwork(ctx, req.PgName)
	n.pgs = append(n.pgs[:i], n.pgs[i+1:]...)
	n.publish()
	body.Res = &types.RemovePortGroupResponse{}
	return body
}

func checkIP(ip *types.HostIpConfig) *soap.Fault {
	if ip == nil {
		return simulator.Fault("no IP configuration", &types.InvalidArgument{InvalidProperty: "nic.ip"})
	}
	if ip.Dhcp {
		return nil
	}
	addr := net.ParseIP(ip.IpAddress)
	mask := net.ParseIP(ip.SubnetMask)
	if addr == nil || addr.To4() == nil {
		return simulator.Fault(fmt.Sprintf("invalid IP address %q", ip.IpAddress), &types.InvalidArgument{InvalidProperty: "nic.ip.ipAddress"})
	}
	if mask == nil || mask.To4() == nil {
		return simulator.Fault(fmt.Sprintf("invalid subnet mask %q", ip.SubnetMask), &types.InvalidArgument{InvalidProperty: "nic.ip.subnetMask"})
	}
	if ones, bits := net.IPMask(mask.To4()).Size(); bits == 0 || ones == 0 {
		return simulator.Fault(fmt.Sprintf("invalid subnet mask %q", ip.SubnetMask), &types.InvalidArgument{InvalidProperty: "nic.ip.subnetMask"})
	}
	return nil
}

func (n *netSystem) checkStack(key string) *soap.Fault {
	for _, s := range netStacks {
		if s == key {
			return nil
		}
	}
	return simulator.Fault(fmt.Sprintf("no TCP/IP stack %q on this host (%s)", key, strings.Join(netStacks, ", ")),
		&types.InvalidArgument{InvalidProperty: "nic.netStackInstanceKey"})
}

func (n *netSystem) AddVirtualNic(req *types.AddVirtualNic) soap.HasFault {
	body := &methods.AddVirtualNicBody{}
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.pg(req.Portgroup)
	if i < 0 {
		body.Fault_ = simulator.Fault(fmt.Sprintf("no port group %q", req.Portgroup), &types.InvalidArgument{InvalidProperty: "portgroup"})
		return body
	}
	for _, v := range n.vnics {
		if v.Portgroup == req.Portgroup {
			body.Fault_ = simulator.Fault(fmt.Sprintf("port group %s has %s already", req.Portgroup, v.Device), &types.AlreadyExists{Name: req.Portgroup})
			return body
		}
	}
	spec := req.Nic
	if f := checkIP(spec.Ip); f != nil {
		body.Fault_ = f
		return body
	}
	if spec.NetStackInstanceKey == "" {
		spec.NetStackInstanceKey = "defaultTcpipStack"
	}
	if f := n.checkStack(spec.NetStackInstanceKey); f != nil {
		body.Fault_ = f
		return body
	}
	if spec.Mtu == 0 {
		spec.Mtu = 1500
	}
	num := 0
	for n.vnic(fmt.Sprintf("vmk%d", num)) >= 0 {
		num++
	}
	device := fmt.Sprintf("vmk%d", num)
	if spec.Mac == "" {
		spec.Mac = fmt.Sprintf("00:50:56:6a:%02x:%02x", len(n.vnics), num)
	}
	spec.Portgroup = req.Portgroup
	if spec.TsoEnabled == nil {
		spec.TsoEnabled = types.NewBool(true)
	}
	n.vnics = append(n.vnics, types.HostVirtualNic{Device: device, Key: "key-vim.host.VirtualNic-" + device,
		Portgroup: req.Portgroup, Spec: spec, Port: fmt.Sprintf("key-vim.host.PortGroup.Port-%d", 33554440+num)})
	n.publish()
	body.Res = &types.AddVirtualNicResponse{Returnval: device}
	return body
}

func (n *netSystem) UpdateVirtualNic(req *types.UpdateVirtualNic) soap.HasFault {
	body := &methods.UpdateVirtualNicBody{}
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.vnic(req.Device)
	if i < 0 {
		body.Fault_ = simulator.Fault(fmt.Sprintf("no VMkernel NIC %s", req.Device), &types.NotFound{})
		return body
	}
	v := &n.vnics[i]
	spec := req.Nic
	if spec.Ip != nil {
		if f := checkIP(spec.Ip); f != nil {
			body.Fault_ = f
			return body
		}
		v.Spec.Ip = spec.Ip
	}
	if spec.Mtu != 0 {
		v.Spec.Mtu = spec.Mtu
	}
	if spec.IpRouteSpec != nil {
		v.Spec.IpRouteSpec = spec.IpRouteSpec
	}
	if spec.Portgroup != "" && spec.Portgroup != v.Portgroup {
		if n.pg(spec.Portgroup) < 0 {
			body.Fault_ = simulator.Fault(fmt.Sprintf("no port group %q", spec.Portgroup), &types.InvalidArgument{InvalidProperty: "nic.portgroup"})
			return body
		}
		v.Portgroup, v.Spec.Portgroup = spec.Portgroup, spec.Portgroup
	}
	n.publish()
	body.Res = &types.UpdateVirtualNicResponse{}
	return body
}

func (n *netSystem) RemoveVirtualNic(req *types.RemoveVirtualNic) soap.HasFault {
	body := &methods.RemoveVirtualNicBody{}
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.vnic(req.Device)
	if i < 0 {
		body.Fault_ = simulator.Fault(fmt.Sprintf("no VMkernel NIC %s", req.Device), &types.NotFound{})
		return body
	}
	n.vnics = append(n.vnics[:i], n.vnics[i+1:]...)
	for t, devs := range n.selected {
		kept := []string{}
		for _, d := range devs {
			if d != req.Device {
				kept = append(kept, d)
			}
		}
		n.selected[t] = kept
	}
	n.publish()
	body.Res = &types.RemoveVirtualNicResponse{}
	return body
}

func validNicType(t string) bool {
	for _, k := range nicTypes {
		if k == t {
			return true
		}
	}
	return false
}

// netConfig: the candidates of a NIC type (the default stack's VMkernel NICs) and the selected ones, keys
// "<nicType>.key-vim.host.VirtualNic-vmkN" as ESX gives them; n.mu held
func (m *vnicManager) netConfig(t string) *types.VirtualNicManagerNetConfig {
	n := m.net
	nc := &types.VirtualNicManagerNetConfig{NicType: t, MultiSelectAllowed: t != "vsanWitness"}
	for _, v := range n.vnics {
		if v.Spec.NetStackInstanceKey != "" && v.Spec.NetStackInstanceKey != "defaultTcpipStack" {
			continue
		}
		c := v
		c.Key = t + ".key-vim.host.VirtualNic-" + v.Device
		nc.CandidateVnic = append(nc.CandidateVnic, c)
	}
	devs := append([]string{}, n.selected[t]...)
	sort.Strings(devs)
	for _, d := range devs {
		nc.SelectedVnic = append(nc.SelectedVnic, t+".key-vim.host.VirtualNic-"+d)
	}
	return nc
}

func (m *vnicManager) netConfigs() *types.HostVirtualNicManagerInfo {
	info := &types.HostVirtualNicManagerInfo{}
	for _, t := range nicTypes {
		info.NetConfig = append(info.NetConfig, *m.netConfig(t))
	}
	return info
}

func (m *vnicManager) QueryNetConfig(req *types.QueryNetConfig) soap.HasFault {
	body := &methods.QueryNetConfigBody{}
	m.net.mu.Lock()
	defer m.net.mu.Unlock()
	if !validNicType(req.NicType) {
		body.Fault_ = simulator.Fault(fmt.Sprintf("invalid nicType %q", req.NicType), &types.InvalidArgument{InvalidProperty: "nicType"})
		return body
	}
	body.Res = &types.QueryNetConfigResponse{Returnval: m.netConfig(req.NicType)}
	return body
}

func (m *vnicManager) selectVnic(nicType, device string, on bool) *soap.Fault {
	n := m.net
	if !validNicType(nicType) {
		return simulator.Fault(fmt.Sprintf("invalid nicType %q", nicType), &types.InvalidArgument{InvalidProperty: "nicType"})
	}
	i := n.vnic(device)
	if i < 0 || (n.vnics[i].Spec.NetStackInstanceKey != "" && n.vnics[i].Spec.NetStackInstanceKey != "defaultTcpipStack") {
		return simulator.Fault(fmt.Sprintf("%s is not a candidate for %s", device, nicType), &types.InvalidArgument{InvalidProperty: "device"})
	}
	kept := []string{}
	for _, d := range n.selected[nicType] {
		if d != device {
			kept = append(kept, d)
		}
	}
	if on {
		kept = append(kept, device)
	}
	n.selected[nicType] = kept
	n.publish()
	return nil
}

func (m *vnicManager) SelectVnicForNicType(req *types.SelectVnicForNicType) soap.HasFault {
	m.net.mu.Lock()
	defer m.net.mu.Unlock()
	if f := m.selectVnic(req.NicType, req.Device, true); f != nil {
		return &methods.SelectVnicForNicTypeBody{Fault_: f}
	}
	return &methods.SelectVnicForNicTypeBody{Res: &types.SelectVnicForNicTypeResponse{}}
}

func (m *vnicManager) DeselectVnicForNicType(req *types.DeselectVnicForNicType) soap.HasFault {
	m.net.mu.Lock()
	defer m.net.mu.Unlock()
	if f := m.selectVnic(req.NicType, req.Device, false); f != nil {
		return &methods.DeselectVnicForNicTypeBody{Fault_: f}
	}
	return &methods.DeselectVnicForNicTypeBody{Res: &types.DeselectVnicForNicTypeResponse{}}
}
