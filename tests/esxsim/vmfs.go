// VMFS on the pair's SRP LUNs: HostDatastoreSystem.QueryAvailableDisksForVmfs,
// QueryVmfsDatastoreCreateOptions, CreateVmfsDatastore and HostStorageSystem.RescanVmfs, written from the
// vSphere API reference (not recorded from a real host).
//
// What several ESX hosts share is the LUN's content, nothing else: a VMFS written on a LUN by one host is
// a file in the shared directory (config "shared_dir", one per LUN, <shared_dir>/luns/naa.<id>.json), and
// each simulator process is one standalone ESX host that mounts it only when its own RescanVmfs (or its
// start-up) finds it, as ESX does. The datastore's files live in <shared_dir>/volumes/<uuid>/, the same
// directory for every host that mounts it.
package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// vmfsHeader: what a VMFS on a LUN says about itself (its superblock, as far as the API shows it)
type vmfsHeader struct {
	UUID         string `json:"uuid"`
	Name         string `json:"name"`
	MajorVersion int32  `json:"major_version"`
	Version      string `json:"version"`
	BlockSizeMb  int32  `json:"block_size_mb"`
	CreatedBy    string `json:"created_by"`
	Partition    int32  `json:"partition"`
}

// mount: a VMFS this host has mounted
type mount struct {
	naa    string
	header vmfsHeader
	ds     types.ManagedObjectReference
}

func (st *state) lunFile(naa string) string {
	return filepath.Join(st.sharedDir, "luns", "naa."+naa+".json")
}

func (st *state) readHeader(naa string) (*vmfsHeader, error) {
	raw, err := os.ReadFile(st.lunFile(naa))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var h vmfsHeader
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, err
	}
	return &h, nil
}

// visibleLUN: the pair's LUN behind devicePath ("/vmfs/devices/disks/naa.X") or canonical name, if this host
// sees it now (it has at least one path, live or dead, since the last rescan)
func (st *state) visibleLUN(name string) (*lunConfig, bool) {
	name = strings.TrimPrefix(name, "/vmfs/devices/disks/")
	for i := range st.cfg.LUNs {
		l := &st.cfg.LUNs[i]
		if "naa."+l.Naa != name && l.Naa != name && st.lunUUID(*l) != name {
			continue
		}
		for k, alive := range st.paths {
			if k.lun == l.Name && alive {
				return l, true
			}
		}
		return l, false
	}
	return nil, false
}

func vmfsUUID() string {
	// ESX's VMFS UUIDs: 8 hex digits of time, then three groups (5ab1c2d3-1e2f3a4b-5c6d-001122334455)
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%08x-%x-%x-%x", uint32(time.Now().Unix()), b[0:4], b[4:6], b[6:10])
}

// datastoreSystem wraps the stock HostDatastoreSystem (same managed object reference)
type datastoreSystem struct {
	*simulator.HostDatastoreSystem
	st *state
	ss *storageSystem
}

func (d *datastoreSystem) disk(l *lunConfig) types.HostScsiDisk {
	for _, sl := range d.ss.StorageDeviceInfo.ScsiLun {
		if disk, ok := sl.(*types.HostScsiDisk); ok && disk.CanonicalName == "naa."+l.Naa {
			return *disk
		}
	}
	return types.HostScsiDisk{}
}

// QueryAvailableDisksForVmfs: the SRP LUNs this host sees with no VMFS on them (the reference: "filters out
// disks that are currently in use by an existing VMFS"). Extending a datastore is not simulated.
func (d *datastoreSystem) QueryAvailableDisksForVmfs(req *types.QueryAvailableDisksForVmfs) soap.HasFault {
	d.st.mu.Lock()
	defer d.st.mu.Unlock()
	res := &types.QueryAvailableDisksForVmfsResponse{}
	for i := range d.st.cfg.LUNs {
		l := &d.st.cfg.LUNs[i]
		if _, ok := d.st.visibleLUN(l.Naa); !ok {
			continue
		}
		if h, err := d.st.readHeader(l.Naa); err != nil || h != nil {
			continue
		}
		res.Returnval = append(res.Returnval, d.disk(l))
	}
	return &methods.QueryAvailableDisksForVmfsBody{Res: res}
}

func lunSectors(l *lunConfig) int64 { return l.SizeMiB * 2048 }

// QueryVmfsDatastoreCreateOptions: one option, the whole disk in one GPT partition of type vmfs (what ESX
// 5.x / 6.0 offer for an empty disk with VMFS 5). NotFound for a device the host does not see.
func (d *datastoreSystem) QueryVmfsDatastoreCreateOptions(req *types.QueryVmfsDatastoreCreateOptions) soap.HasFault {
	body := &methods.QueryVmfsDatastoreCreateOptionsBody{}
	d.st.mu.Lock()
	defer d.st.mu.Unlock()
	l, ok := d.st.visibleLUN(req.DevicePath)
	if !ok {
		body.Fault_ = simulator.Fault(fmt.Sprintf("no disk %s on this host (not presented, or no rescan since)",
			req.DevicePath), &types.NotFound{})
		return body
	}
	major := req.VmfsMajorVersion
	if major == 0 {
		major = 5
	}
	if major != 3 && major != 5 {
		body.Fault_ = simulator.Fault(fmt.Sprintf("VMFS %d is not supported by this host (3 or 5)", major),
			&types.InvalidArgument{InvalidProperty: "vmfsMajorVersion"})
		return body
	}
	sectors := lunSectors(l)
	start, end := int64(2048), sectors-1
	rng := types.HostDiskPartitionBlockRange{Partition: 1, Type: "vmfs",
		Start: types.HostDiskDimensionsLba{BlockSize: 512, Block: start},
		End:   types.HostDiskDimensionsLba{BlockSize: 512, Block: end}}
	opt := types.VmfsDatastoreOption{
		Info: &types.VmfsDatastoreAllExtentOption{VmfsDatastoreSingleExtentOption: types.VmfsDatastoreSingleExtentOption{
			VmfsDatastoreBaseOption: types.VmfsDatastoreBaseOption{
				Layout: types.HostDiskPartitionLayout{
					Total:     &types.HostDiskDimensionsLba{BlockSize: 512, Block: sectors},
					Partition: []types.HostDiskPartitionBlockRange{rng}},
				PartitionFormatChange: types.NewBool(false),
			},
			VmfsExtent: rng,
		}},
		Spec: &types.VmfsDatastoreCreateSpec{
			VmfsDatastoreSpec: types.VmfsDatastoreSpec{DiskUuid: d.st.lunUUID(*l)},
			Partition: types.HostDiskPartitionSpec{PartitionFormat: "gpt", TotalSectors: sectors,
				Partition: []types.HostDiskPartitionAttributes{{Partition: 1, StartSector: start, EndSector: end,
					Type: "AA31E02A400F11DB9590000C2911D1B8", PartitionAlignment: 1048576}}},
			Vmfs: types.HostVmfsSpec{Extent: types.HostScsiDiskPartition{DiskName: "naa." + l.Naa, Partition: 1},
				BlockSizeMb: 1, MajorVersion: major},
		},
	}
	body.Res = &types.QueryVmfsDatastoreCreateOptionsResponse{Returnval: []types.VmfsDatastoreOption{opt}}
	return body
}

// CreateVmfsDatastore writes the VMFS on the LUN (the shared file) and mounts it here. Faults as the
// reference lists them: NotFound (no such disk here), DuplicateName (a datastore of that name on this
// host), HostConfigFault (the disk already holds a VMFS: the simulator refuses to format a LUN another
// host has written, a tripwire for the tests; what ESX itself does there is not known to it).
func (d *datastoreSystem) CreateVmfsDatastore(ctx *simulator.Context, req *types.CreateVmfsDatastore) soap.HasFault {
	body := &methods.CreateVmfsDatastoreBody{}
	d.st.mu.Lock()
	defer d.st.mu.Unlock()
	spec := req.Spec
	l, ok := d.st.visibleLUN(spec.Vmfs.Extent.DiskName)
	if !ok {
		l, ok = d.st.visibleLUN(spec.DiskUuid)
	}
	if !ok {
		body.Fault_ = simulator.Fault(fmt.Sprintf("no disk %s on this host", spec.Vmfs.Extent.DiskName), &types.NotFound{})
		return body
	}
	name := spec.Vmfs.VolumeName
	if name == "" || len(name) > 42 || strings.ContainsAny(name, "/\\") {
		body.Fault_ = simulator.Fault(fmt.Sprintf("invalid volume name %q", name), &types.InvalidArgument{InvalidProperty: "spec.vmfs.volumeName"})
		return body
	}
	if e := simulator.Map.FindByName(name, d.Datastore); e != nil {
		body.Fault_ = simulator.Fault(e.Reference().Value, &types.DuplicateName{Name: name, Object: e.Reference()})
		return body
	}
	if err := os.MkdirAll(filepath.Dir(d.st.lunFile(l.Naa)), 0o755); err != nil {
		body.Fault_ = simulator.Fault(err.Error(), &types.HostConfigFault{})
		return body
	}
	major := spec.Vmfs.MajorVersion
	if major == 0 {
		major = 5
	}
	version := "5.60"
	if major == 3 {
		version = "3.60"
	}
	h := vmfsHeader{UUID: vmfsUUID(), Name: name, MajorVersion: major, Version: version,
		BlockSizeMb: 1, CreatedBy: d.Host.Name, Partition: 1}
	raw, _ := json.Marshal(h)
	f, err := os.OpenFile(d.st.lunFile(l.Naa), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if os.IsExist(err) {
		other, _ := d.st.readHeader(l.Naa)
		msg := fmt.Sprintf("naa.%s already holds a VMFS", l.Naa)
		if other != nil {
			msg = fmt.Sprintf("naa.%s already holds VMFS volume %q (%s, written by %s); RescanVmfs mounts it",
				l.Naa, other.Name, other.UUID, other.CreatedBy)
		}
		body.Fault_ = simulator.Fault(msg, &types.HostConfigFault{})
		return body
	}
	if err == nil {
		_, err = f.Write(raw)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		body.Fault_ = simulator.Fault(err.Error(), &types.HostConfigFault{})
		return body
	}
	ref, fault := d.mountLocked(ctx, l, h)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	body.Res = &types.CreateVmfsDatastoreResponse{Returnval: ref}
	return body
}

// mountLocked: the VMFS h on LUN l becomes a datastore of this host (host.datastore, the datacenter's
// datastore folder, the storage system's fileSystemVolumeInfo); st.mu held
func (d *datastoreSystem) mountLocked(ctx *simulator.Context, l *lunConfig, h vmfsHeader) (types.ManagedObjectReference, *soap.Fault) {
	dir := filepath.Join(d.st.sharedDir, "volumes", h.UUID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return types.ManagedObjectReference{}, simulator.Fault(err.Error(), &types.HostConfigFault{})
	}
	// The stock CreateLocalDatastore puts a datastore in every place a datastore belongs; then it is made a VMFS
	res := d.HostDatastoreSystem.CreateLocalDatastore(ctx, &types.CreateLocalDatastore{Name: h.Name, Path: dir})
	if f := res.Fault(); f != nil {
		return types.ManagedObjectReference{}, f
	}
	ref := res.(*methods.CreateLocalDatastoreBody).Res.Returnval
	ds := simulator.Map.Get(ref).(*simulator.Datastore)
	capacity := (lunSectors(l) - 2048) * 512
	vol := d.st.vmfsVolume(l, h)
	simulator.Map.WithLock(ds, func() {
		ds.Info = &types.VmfsDatastoreInfo{
			DatastoreInfo: types.DatastoreInfo{Name: h.Name, Url: dir, FreeSpace: capacity,
				MaxFileSize: 2199023255552, MaxVirtualDiskCapacity: 68169720922112, Timestamp: types.NewTime(time.Now())},
			MaxPhysicalRDMFileSize: 68169720922112, MaxVirtualRDMFileSize: 68169720922112,
			Vmfs: vol,
		}
		ds.Summary.Type = "VMFS"
		ds.Summary.Url = "ds:///vmfs/volumes/" + h.UUID + "/"
		ds.Summary.Capacity = capacity
		ds.Summary.FreeSpace = capacity
		ds.Summary.MultipleHostAccess = types.NewBool(true)
		for i := range ds.Host {
			ds.Host[i].MountInfo.Path = "/vmfs/volumes/" + h.UUID
		}
	})
	d.st.mounts[l.Naa] = &mount{naa: l.Naa, header: h, ds: ref}
	d.ss.publish()
	return ref, nil
}

func (st *state) vmfsVolume(l *lunConfig, h vmfsHeader) *types.HostVmfsVolume {
	capacity := (lunSectors(l) - 2048) * 512
	return &types.HostVmfsVolume{
		HostFileSystemVolume: types.HostFileSystemVolume{Type: "VMFS", Name: h.Name, Capacity: capacity},
		BlockSizeMb:          h.BlockSizeMb, BlockSize: h.BlockSizeMb * 1024, MaxBlocks: 63963136,
		MajorVersion: h.MajorVersion, Version: h.Version, Uuid: h.UUID,
		Extent: []types.HostScsiDiskPartition{{DiskName: "naa." + l.Naa, Partition: h.Partition}},
		Ssd:    types.NewBool(false), Local: types.NewBool(false),
	}
}

// fileSystemVolumeInfo: the VMFS mounts (the stock local datastore is not listed: the stock simulator has
// no file system volume for it either)
func (st *state) fileSystemVolumeInfo() *types.HostFileSystemVolumeInfo {
	info := &types.HostFileSystemVolumeInfo{VolumeTypeList: []string{"VMFS", "NFS", "NFS41", "vsan", "VVOL", "VFFS", "OTHER", "PMEM"}}
	naas := make([]string, 0, len(st.mounts))
	for naa := range st.mounts {
		naas = append(naas, naa)
	}
	sort.Strings(naas)
	for _, naa := range naas {
		m := st.mounts[naa]
		l, alive := st.visibleLUN(naa)
		info.MountInfo = append(info.MountInfo, types.HostFileSystemMountInfo{
			MountInfo: types.HostMountInfo{Path: "/vmfs/volumes/" + m.header.UUID, AccessMode: "readWrite",
				Mounted: types.NewBool(true), Accessible: types.NewBool(alive)},
			Volume:          st.vmfsVolume(l, m.header),
			VStorageSupport: "vStorageUnsupported",
		})
	}
	return info
}

// RescanVmfs: the VMFS volumes on the LUNs this host sees and has not mounted are mounted (found by their
// header on the LUN, whoever wrote it). Device discovery is RescanHba / RescanAllHba's, not this.
func (s *storageSystem) RescanVmfs(ctx *simulator.Context, _ *types.RescanVmfs) soap.HasFault {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if f := s.scanVmfsLocked(ctx); f != nil {
		return &methods.RescanVmfsBody{Fault_: f}
	}
	return &methods.RescanVmfsBody{Res: &types.RescanVmfsResponse{}}
}

func (s *storageSystem) scanVmfsLocked(ctx *simulator.Context) *soap.Fault {
	s.st.vmfsRescans++
	for i := range s.st.cfg.LUNs {
		l := &s.st.cfg.LUNs[i]
		if _, mounted := s.st.mounts[l.Naa]; mounted {
			continue
		}
		if _, ok := s.st.visibleLUN(l.Naa); !ok {
			continue
		}
		h, err := s.st.readHeader(l.Naa)
		if err != nil {
			return simulator.Fault(err.Error(), &types.HostConfigFault{})
		}
		if h == nil {
			continue
		}
		if _, f := s.ds.mountLocked(ctx, l, *h); f != nil {
			return f
		}
	}
	return nil
}

// QueryVmfsDatastoreExpandOptions: none (a LUN does not grow here: the VMFS spans it from the start).
// vmware_host_datastore asks it on every run (auto_expand).
func (d *datastoreSystem) QueryVmfsDatastoreExpandOptions(req *types.QueryVmfsDatastoreExpandOptions) soap.HasFault {
	body := &methods.QueryVmfsDatastoreExpandOptionsBody{}
	d.st.mu.Lock()
	defer d.st.mu.Unlock()
	for _, m := range d.st.mounts {
		if m.ds == req.Datastore {
			body.Res = &types.QueryVmfsDatastoreExpandOptionsResponse{}
			return body
		}
	}
	body.Fault_ = simulator.Fault(fmt.Sprintf("%s is not a VMFS datastore of this host", req.Datastore.Value), &types.NotFound{})
	return body
}
