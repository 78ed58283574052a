// esxsim: a standalone VMware ESX host for the esx_* modules' tests, built on Debian's govmomi
// simulator library (golang-github-vmware-govmomi-dev 0.24.2, offline; tests/esxsim/build.sh).
//
// Stock vcsim has no SRP HBA and answers MethodNotFound for RescanHba, SetMultipathLunPolicy and
// QueryPathSelectionPolicyOptions. This adds, from a JSON config (tests/esxsim/README.md):
//   - an SRP HBA (driver ib_srp, as Mellanox's OFED bundle for ESXi 5.x / 6.0 has) on the host;
//   - the pair's SCSI LUNs, each with one path per target port that presents it and a multipath
//     entry (SATP, PSP; VMW_SATP_LOCAL + VMW_PSP_FIXED until SetMultipathLunPolicy says otherwise);
//   - RescanHba / RescanAllHba: paths appear for the target ports that present the LUNs now, and
//     the dead ones go;
//   - QueryPathSelectionPolicyOptions, QueryStorageArrayTypePolicyOptions, SetMultipathLunPolicy;
//   - host.config.storageDevice kept equal to the storage system's storageDeviceInfo (stock vcsim
//     keeps a start-up copy);
//   - a control endpoint for the tests, POST /esxsim/serve?target=NAME: the pair's failover as
//     the host sees it. The old target's paths go dead at once; the new one's appear at the
//     next rescan, as on ESX.
//
//   - VMFS on the LUNs (vmfs.go) and the network calls with IPoIB uplinks (network.go).
//
// It prints one JSON line when it listens: {"url": "https://127.0.0.1:PORT/sdk", "pid": PID}.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

type hbaConfig struct {
	Device string `json:"device"`
	Model  string `json:"model"`
	Driver string `json:"driver"`
}

type targetConfig struct {
	Name string `json:"name"`
	// The target port's identifier as ESX shows it in a path's target (the SRP target port GUID)
	PortID string `json:"port_id"`
}

type lunConfig struct {
	Name   string `json:"name"`
	Number int32  `json:"number"`
	// The NAA identifier, hex digits only (ESX's canonical name is "naa." + it)
	Naa     string `json:"naa"`
	Serial  string `json:"serial"`
	Vendor  string `json:"vendor"`
	Model   string `json:"model"`
	SizeMiB int64  `json:"size_mib"`
}

type config struct {
	Listen   string         `json:"listen"`
	Username string         `json:"username"`
	Password string         `json:"password"`
	HBA      hbaConfig      `json:"hba"`
	Targets  []targetConfig `json:"targets"`
	LUNs     []lunConfig    `json:"luns"`
	Serving  string         `json:"serving"`
	// The host's name (HostSystem.name); empty: the stock localhost.localdomain
	HostName string `json:"host_name"`
	// What the hosts sharing the LUNs share: their content (a VMFS written by one host); empty: a private
	// temporary directory
	SharedDir string `json:"shared_dir"`
	// Physical NICs added to the stock vmnic0, e.g. the IPoIB uplinks {"device": "vmnic_ib0", "driver": "ib_ipoib"}
	Vmnics []vmnicConfig `json:"vmnics"`
}

var psps = [][2]string{
	{"VMW_PSP_MRU", "Most Recently Used"},
	{"VMW_PSP_RR", "Round Robin"},
	{"VMW_PSP_FIXED", "Fixed"},
}

var satps = [][2]string{
	{"VMW_SATP_LOCAL", "Supports direct attached devices"},
	{"VMW_SATP_DEFAULT_AA", "Supports non-specific active/active arrays"},
	{"VMW_SATP_DEFAULT_AP", "Supports non-specific active/passive arrays"},
	{"VMW_SATP_ALUA", "Supports non-specific arrays that use the ALUA protocol"},
}

// pathKey: one path, a LUN through one target port
type pathKey struct {
	target string
	lun    string
}

// state: what the host sees; guarded by mu (the SOAP handlers and the control endpoint run concurrently)
type state struct {
	mu      sync.Mutex
	cfg     config
	serving string
	paths   map[pathKey]bool // known paths: true while their target presents the LUN
	policy  map[string]types.BaseHostMultipathInfoLogicalUnitPolicy
	satp    map[string]string
	rescans int
	// VMFS (vmfs.go)
	sharedDir   string
	mounts      map[string]*mount // by NAA
	vmfsRescans int
}

func (st *state) target(name string) (int, *targetConfig) {
	for i := range st.cfg.Targets {
		if st.cfg.Targets[i].Name == name {
			return i, &st.cfg.Targets[i]
		}
	}
	return -1, nil
}

// rescan: the paths of the serving target appear, dead ones go
func (st *state) rescan() {
	st.rescans++
	for k, alive := range st.paths {
		if !alive {
			delete(st.paths, k)
		}
	}
	if st.serving == "" {
		return
	}
	for _, l := range st.cfg.LUNs {
		st.paths[pathKey{st.serving, l.Name}] = true
	}
}

func (st *state) serve(name string) {
	st.serving = name
	for k := range st.paths {
		st.paths[k] = k.target == name
	}
}

func hbaKey(device string) string { return "key-vim.host.BlockHba-" + device }

func (st *state) lunUUID(l lunConfig) string { return fmt.Sprintf("02%04x%s", l.Number, l.Naa) }

func (st *state) pathName(target string, l lunConfig) string {
	i, _ := st.target(target)
	return fmt.Sprintf("%s:C0:T%d:L%d", st.cfg.HBA.Device, i, l.Number)
}

// storageDeviceInfo: the host's view, from the stock template (local disk, CD-ROM) plus the SRP HBA and its LUNs
func (st *state) storageDeviceInfo(base *types.HostStorageDeviceInfo) *types.HostStorageDeviceInfo {
	info := *base
	hba := st.cfg.HBA
	info.HostBusAdapter = append(append([]types.BaseHostHostBusAdapter{}, base.HostBusAdapter...), &types.HostBlockHba{
		HostHostBusAdapter: types.HostHostBusAdapter{
			Key: hbaKey(hba.Device), Device: hba.Device, Status: "online", Model: hba.Model, Driver: hba.Driver,
		},
	})
	info.ScsiLun = append([]types.BaseScsiLun{}, base.ScsiLun...)
	mp := types.HostMultipathInfo{}
	if base.MultipathInfo != nil {
		mp.Lun = append(mp.Lun, base.MultipathInfo.Lun...)
	}
	topo := types.HostScsiTopologyInterface{Key: "key-vim.host.ScsiTopology.Interface-" + hba.Device, Adapter: hbaKey(hba.Device)}
	targets := map[string][]types.HostScsiTopologyLun{}
	for _, l := range st.cfg.LUNs {
		var lunPaths []types.HostMultipathInfoPath
		keys := []pathKey{}
		for k := range st.paths {
			if k.lun == l.Name {
				keys = append(keys, k)
			}
		}
		sort.Slice(keys, func(a, b int) bool { return keys[a].target < keys[b].target })
		uuid := st.lunUUID(l)
		lunKey := "key-vim.host.ScsiDisk-" + uuid
		mpKey := "key-vim.host.MultipathInfo.LogicalUnit-" + uuid
		for _, k := range keys {
			name := st.pathName(k.target, l)
			stateName := "dead"
			if st.paths[k] {
				stateName = "active"
			}
			_, t := st.target(k.target)
			lunPaths = append(lunPaths, types.HostMultipathInfoPath{
				Key: "key-vim.host.MultipathInfo.Path-" + name, Name: name, PathState: stateName, State: stateName,
				IsWorkingPath: types.NewBool(st.paths[k]), Adapter: hbaKey(hba.Device), Lun: mpKey,
				Transport: &types.HostBlockAdapterTargetTransport{},
			})
			targets[t.PortID] = append(targets[t.PortID], types.HostScsiTopologyLun{
				Key: "key-vim.host.ScsiTopology.Lun-" + uuid, Lun: l.Number, ScsiLun: lunKey})
		}
		if len(lunPaths) == 0 {
			continue // not presented yet (no rescan since), or every path gone
		}
		opState := []string{"ok"}
		if !anyAlive(lunPaths) {
			opState = []string{"lostCommunication"}
		}
		canonical := "naa." + l.Naa
		info.ScsiLun = append(info.ScsiLun, &types.HostScsiDisk{
			ScsiLun: types.ScsiLun{
				HostDevice:    types.HostDevice{DeviceName: "/vmfs/devices/disks/" + canonical, DeviceType: "disk"},
				Key:           lunKey,
				Uuid:          uuid,
				CanonicalName: canonical,
				DisplayName:   fmt.Sprintf("%s Fibre Channel Disk (%s)", l.Vendor, canonical),
				LunType:       "disk",
				Vendor:        l.Vendor,
				Model:         l.Model,
				SerialNumber:  l.Serial,
				Descriptor: []types.ScsiLunDescriptor{
					{Quality: "highQuality", Id: canonical}, {Quality: "mediumQuality", Id: uuid}},
				OperationalState: opState,
			},
			Capacity:   types.HostDiskDimensionsLba{BlockSize: 512, Block: l.SizeMiB * 2048},
			DevicePath: "/vmfs/devices/disks/" + canonical,
			LocalDisk:  types.NewBool(false),
		})
		mp.Lun = append(mp.Lun, types.HostMultipathInfoLogicalUnit{
			Key: mpKey, Id: uuid, Lun: lunKey, Path: lunPaths, Policy: st.lunPolicy(uuid, lunPaths),
			StorageArrayTypePolicy: &types.HostMultipathInfoLogicalUnitStorageArrayTypePolicy{Policy: st.satpOf(uuid)},
		})
	}
	ports := make([]string, 0, len(targets))
	for p := range targets {
		ports = append(ports, p)
	}
	sort.Strings(ports)
	for i, p := range ports {
		topo.Target = append(topo.Target, types.HostScsiTopologyTarget{
			Key: fmt.Sprintf("key-vim.host.ScsiTopology.Target-%s:0:%d", hba.Device, i), Target: int32(i),
			Lun: targets[p], Transport: &types.HostBlockAdapterTargetTransport{}})
	}
	if base.ScsiTopology != nil {
		t := *base.ScsiTopology
		t.Adapter = append(append([]types.HostScsiTopologyInterface{}, base.ScsiTopology.Adapter...), topo)
		info.ScsiTopology = &t
	}
	info.MultipathInfo = &mp
	return &info
}

func anyAlive(paths []types.HostMultipathInfoPath) bool {
	for _, p := range paths {
		if p.PathState == "active" {
			return true
		}
	}
	return false
}

func (st *state) satpOf(uuid string) string {
	if s, ok := st.satp[uuid]; ok {
		return s
	}
	return "VMW_SATP_LOCAL" // what claims an SRP LUN with no claim rule (ANCHORS: quantum/esos #112)
}

func (st *state) lunPolicy(uuid string, paths []types.HostMultipathInfoPath) types.BaseHostMultipathInfoLogicalUnitPolicy {
	if p, ok := st.policy[uuid]; ok {
		return p
	}
	fixed := &types.HostMultipathInfoFixedLogicalUnitPolicy{
		HostMultipathInfoLogicalUnitPolicy: types.HostMultipathInfoLogicalUnitPolicy{Policy: "VMW_PSP_FIXED"}}
	if len(paths) > 0 {
		fixed.Prefer = paths[0].Name
	}
	return fixed
}

// storageSystem wraps the stock HostStorageSystem (same managed object reference)
type storageSystem struct {
	*simulator.HostStorageSystem
	st   *state
	base types.HostStorageDeviceInfo
	ds   *datastoreSystem
}

// publish: storageDeviceInfo and host.config.storageDevice from the state (call with st.mu held)
func (s *storageSystem) publish() {
	info := s.st.storageDeviceInfo(&s.base)
	s.StorageDeviceInfo = info
	fs := s.st.fileSystemVolumeInfo()
	s.FileSystemVolumeInfo = *fs
	simulator.Map.WithLock(s.Host, func() {
		copied := *info
		s.Host.Config.StorageDevice = &copied
		copiedFs := *fs
		s.Host.Config.FileSystemVolume = &copiedFs
	})
}

func (s *storageSystem) RescanHba(req *types.RescanHba) soap.HasFault {
	body := &methods.RescanHbaBody{}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if req.HbaDevice != s.st.cfg.HBA.Device && !s.stockHBA(req.HbaDevice) {
		body.Fault_ = simulator.Fault("", &types.NotFound{})
		return body
	}
	if req.HbaDevice == s.st.cfg.HBA.Device {
		s.st.rescan()
		s.publish()
	}
	body.Res = &types.RescanHbaResponse{}
	return body
}

func (s *storageSystem) stockHBA(device string) bool {
	for _, h := range s.base.HostBusAdapter {
		if h.GetHostHostBusAdapter().Device == device {
			return true
		}
	}
	return false
}

func (s *storageSystem) RescanAllHba(*types.RescanAllHba) soap.HasFault {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.rescan()
	s.publish()
	return &methods.RescanAllHbaBody{Res: &types.RescanAllHbaResponse{}}
}

func options(names [][2]string) []types.ElementDescription {
	out := make([]types.ElementDescription, 0, len(names))
	for _, n := range names {
		out = append(out, types.ElementDescription{Key: n[0], Description: types.Description{Label: n[0], Summary: n[1]}})
	}
	return out
}

func (s *storageSystem) QueryPathSelectionPolicyOptions(*types.QueryPathSelectionPolicyOptions) soap.HasFault {
	res := &types.QueryPathSelectionPolicyOptionsResponse{}
	for _, d := range options(psps) {
		d := d
		res.Returnval = append(res.Returnval, types.HostPathSelectionPolicyOption{Policy: &d})
	}
	return &methods.QueryPathSelectionPolicyOptionsBody{Res: res}
}

func (s *storageSystem) QueryStorageArrayTypePolicyOptions(*types.QueryStorageArrayTypePolicyOptions) soap.HasFault {
	res := &types.QueryStorageArrayTypePolicyOptionsResponse{}
	for _, d := range options(satps) {
		d := d
		res.Returnval = append(res.Returnval, types.HostStorageArrayTypePolicyOption{Policy: &d})
	}
	return &methods.QueryStorageArrayTypePolicyOptionsBody{Res: res}
}

func (s *storageSystem) SetMultipathLunPolicy(req *types.SetMultipathLunPolicy) soap.HasFault {
	body := &methods.SetMultipathLunPolicyBody{}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	known := false
	for _, l := range s.st.cfg.LUNs {
		if s.st.lunUUID(l) == req.LunId {
			known = true
		}
	}
	if !known {
		body.Fault_ = simulator.Fault(fmt.Sprintf("no multipath logical unit %q", req.LunId), &types.NotFound{})
		return body
	}
	name := req.Policy.GetHostMultipathInfoLogicalUnitPolicy().Policy
	valid := false
	for _, p := range psps {
		valid = valid || p[0] == name
	}
	if !valid {
		body.Fault_ = simulator.Fault(fmt.Sprintf("unknown path selection policy %q", name),
			&types.InvalidArgument{InvalidProperty: "policy"})
		return body
	}
	s.st.policy[req.LunId] = req.Policy
	s.publish()
	body.Res = &types.SetMultipathLunPolicyResponse{}
	return body
}

func main() {
	configPath := flag.String("config", "", "JSON config (tests/esxsim/README.md)")
	flag.Parse()
	raw, err := os.ReadFile(*configPath)
	if err != nil {
		log.Fatalf("esxsim: %v", err)
	}
	var cfg config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		log.Fatalf("esxsim: %s: %v", *configPath, err)
	}
	if cfg.HBA.Driver == "" {
		cfg.HBA.Driver = "ib_srp"
	}
	st := &state{cfg: cfg, paths: map[pathKey]bool{},
		policy: map[string]types.BaseHostMultipathInfoLogicalUnitPolicy{}, satp: map[string]string{},
		sharedDir: cfg.SharedDir, mounts: map[string]*mount{}}
	if st.sharedDir == "" {
		dir, err := os.MkdirTemp("", "esxsim-luns-")
		if err != nil {
			log.Fatalf("esxsim: %v", err)
		}
		defer os.RemoveAll(dir)
		st.sharedDir = dir
	}
	if cfg.Serving != "" {
		if i, _ := st.target(cfg.Serving); i < 0 {
			log.Fatalf("esxsim: serving: no target %q", cfg.Serving)
		}
		st.serve(cfg.Serving)
	}

	model := simulator.ESX()
	defer model.Remove()
	if err := model.Create(); err != nil {
		log.Fatalf("esxsim: %v", err)
	}
	model.Service.Listen = &url.URL{Host: cfg.Listen, User: url.UserPassword(cfg.Username, cfg.Password)}
	model.Service.TLS = new(tls.Config) // https with Go's self-signed localhost certificate, as an ESX host's own

	host := simulator.Map.Any("HostSystem").(*simulator.HostSystem)
	if cfg.HostName != "" {
		host.Name = cfg.HostName
		host.Summary.Config.Name = cfg.HostName
	}
	stock := simulator.Map.Get(*host.ConfigManager.StorageSystem).(*simulator.HostStorageSystem)
	ss := &storageSystem{HostStorageSystem: stock, st: st, base: *stock.StorageDeviceInfo}
	simulator.Map.Put(ss)
	stockDss := simulator.Map.Get(*host.ConfigManager.DatastoreSystem).(*simulator.HostDatastoreSystem)
	dss := &datastoreSystem{HostDatastoreSystem: stockDss, st: st, ss: ss}
	ss.ds = dss
	simulator.Map.Put(dss)
	stockNet := simulator.Map.Get(*host.ConfigManager.NetworkSystem).(*simulator.HostNetworkSystem)
	ns := newNetSystem(stockNet, host, cfg.Vmnics)
	simulator.Map.Put(ns)
	simulator.Map.Put(ns.vnicMgr)
	ns.mu.Lock()
	ns.publish()
	ns.mu.Unlock()
	st.mu.Lock()
	st.rescan() // the boot-time scan, devices then the VMFS volumes on them
	ss.publish()
	bootCtx := &simulator.Context{Context: context.Background(), Map: simulator.Map}
	if f := ss.scanVmfsLocked(bootCtx); f != nil {
		log.Fatalf("esxsim: boot-time VMFS scan: %v", f.String)
	}
	st.mu.Unlock()

	model.Service.HandleFunc("/esxsim/serve", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		name := r.URL.Query().Get("target")
		st.mu.Lock()
		defer st.mu.Unlock()
		if i, _ := st.target(name); i < 0 && name != "" {
			http.Error(w, fmt.Sprintf("no target %q", name), http.StatusNotFound)
			return
		}
		st.serve(name)
		ss.publish()
		fmt.Fprintf(w, "serving %s\n", name)
	})
	model.Service.HandleFunc("/esxsim/state", func(w http.ResponseWriter, r *http.Request) {
		st.mu.Lock()
		defer st.mu.Unlock()
		paths := []string{}
		for k, alive := range st.paths {
			paths = append(paths, fmt.Sprintf("%s/%s:%v", k.target, k.lun, alive))
		}
		sort.Strings(paths)
		_ = json.NewEncoder(w).Encode(map[string]interface{}{
			"serving": st.serving, "rescans": st.rescans, "paths": strings.Join(paths, " "),
			"vmfs_rescans": st.vmfsRescans, "mounts": mountNames(st)})
	})

	server := model.Service.NewServer()
	defer server.Close()
	u := *server.URL
	u.User = nil
	line, _ := json.Marshal(map[string]interface{}{"url": u.String(), "pid": os.Getpid()})
	fmt.Println(string(line))

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}

func mountNames(st *state) []string {
	out := []string{}
	for naa, m := range st.mounts {
		out = append(out, fmt.Sprintf("%s:naa.%s", m.header.Name, naa))
	}
	sort.Strings(out)
	return out
}

// Get: the stock object behind a wrapper, for the property collector (it reads the managed object's
// properties from the first embedded mo struct, which a wrapper embedding a pointer does not have)
func (s *storageSystem) Get() mo.Reference { return s.HostStorageSystem }

func (d *datastoreSystem) Get() mo.Reference { return d.HostDatastoreSystem }

func (n *netSystem) Get() mo.Reference { return n.HostNetworkSystem }
