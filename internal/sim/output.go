package sim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Output says where Run writes. A nil writer leaves its log out.
type Output struct {
	// Okta receives the System Log as NDJSON (one LogEvent per line).
	Okta io.Writer
	// Entra receives Graph signIn resources, one per line.
	Entra io.Writer
	// CloudTrail receives CloudTrail records, one per line.
	CloudTrail io.Writer
	// CloudTrailDir, instead, receives delivery-style files:
	// AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/
	// <account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz, each a
	// gzip {"Records":[…]} of five minutes of one account and region.
	CloudTrailDir string
	// Truth receives the truth file: one Truth per line.
	Truth io.Writer
}

// Summary describes what Run wrote.
type Summary struct {
	Seed            uint64    `json:"seed"`
	People          int       `json:"people"`
	ServiceAccounts int       `json:"service_accounts"`
	Days            int       `json:"days"`
	Start           time.Time `json:"start"`
	// First and Last are the times of the first and last event written.
	First time.Time `json:"first,omitzero"`
	Last  time.Time `json:"last,omitzero"`
	// Events is the number of records written, by source in BySource.
	Events   int            `json:"events"`
	BySource map[Source]int `json:"by_source"`
	// Bytes is the size of the records, uncompressed, with newlines.
	Bytes int64 `json:"bytes"`
	// CloudTrailFiles is the number of delivery files written.
	CloudTrailFiles int `json:"cloudtrail_files,omitempty"`
	// Files are the paths WriteDir wrote (CloudTrail delivery files are
	// counted, not listed).
	Files []string `json:"files,omitempty"`
	// Attacks and Lookalikes count the truth entries written; ByRule
	// splits them by rule.
	Attacks    int                  `json:"attacks"`
	Lookalikes int                  `json:"lookalikes"`
	ByRule     map[string]RuleCount `json:"by_rule,omitempty"`
	// Truncated is true when MaxEvents stopped the output early.
	Truncated bool `json:"truncated,omitempty"`
}

// RuleCount counts the truth entries of one rule.
type RuleCount struct {
	Attacks    int `json:"attacks"`
	Lookalikes int `json:"lookalikes"`
}

// writer writes records to the outputs and keeps the tallies.
type writer struct {
	o     *Org
	out   Output
	rng   *rand.Rand
	okta  *oktaEnc
	buf   []byte
	okW   *bufio.Writer
	enW   *bufio.Writer
	ctW   *bufio.Writer
	ct    *ctFiles
	n     int
	max   int
	bySrc map[Source]int
	bytes int64
	first time.Time
	last  time.Time
	truth []*Truth
	done  bool
}

func newWriter(o *Org, out Output) (*writer, error) {
	rng := newRand(o.cfg.Seed, 9)
	w := &writer{o: o, out: out, rng: rng, okta: newOktaEnc(rng), max: o.cfg.MaxEvents, bySrc: map[Source]int{}}
	if out.Okta != nil {
		w.okW = bufio.NewWriterSize(out.Okta, 1<<20)
	}
	if out.Entra != nil {
		w.enW = bufio.NewWriterSize(out.Entra, 1<<20)
	}
	switch {
	case out.CloudTrailDir != "":
		w.ct = &ctFiles{root: out.CloudTrailDir, rng: newRand(o.cfg.Seed, 10), open: map[ctKey]*ctFile{}}
	case out.CloudTrail != nil:
		w.ctW = bufio.NewWriterSize(out.CloudTrail, 1<<20)
	}
	return w, nil
}

func (w *writer) full() bool { return w.max > 0 && w.n >= w.max }

func (w *writer) write(r *rec) error {
	t := time.UnixMilli(r.t).UTC()
	src := r.ev.source()
	// Every record is serialized, written or not, so that each log is the
	// same whichever others are asked for.
	b, id, typ := r.ev.write(w, t)
	var dst *bufio.Writer
	switch src {
	case SourceOkta:
		dst = w.okW
	case SourceEntra:
		dst = w.enW
	case SourceCloudTrail:
		dst = w.ctW
		if w.ct != nil {
			ce := r.ev.(*ctEv)
			if err := w.ct.add(t, ce.account(), ce.region, b); err != nil {
				return err
			}
			return w.count(r, src, id, typ, t, len(b)+1)
		}
	}
	if dst == nil {
		return nil
	}
	b = append(b, '\n')
	w.buf = b
	if _, err := dst.Write(b); err != nil {
		return err
	}
	return w.count(r, src, id, typ, t, len(b))
}

func (w *writer) count(r *rec, src Source, id, typ string, t time.Time, size int) error {
	w.n++
	w.bySrc[src]++
	w.bytes += int64(size)
	if w.first.IsZero() {
		w.first = t
	}
	w.last = t
	if r.tr != nil {
		r.tr.add(src, id, typ, t)
	}
	if r.tr2 != nil {
		r.tr2.add(src, id, typ, t)
	}
	return nil
}

func (w *writer) close() error {
	if w.done {
		return nil
	}
	w.done = true
	var errs []error
	for _, bw := range []*bufio.Writer{w.okW, w.enW, w.ctW} {
		if bw != nil {
			errs = append(errs, bw.Flush())
		}
	}
	if w.ct != nil {
		errs = append(errs, w.ct.closeAll())
	}
	t, err := writeTruth(w.out.Truth, w.o.truth)
	w.truth = t
	errs = append(errs, err)
	return errors.Join(errs...)
}

// abort flushes what was written without the truth file.
func (w *writer) abort() {
	if w.done {
		return
	}
	w.done = true
	for _, bw := range []*bufio.Writer{w.okW, w.enW, w.ctW} {
		if bw != nil {
			bw.Flush()
		}
	}
	if w.ct != nil {
		w.ct.closeAll()
	}
}

func (w *writer) summary() Summary {
	c := w.o.cfg
	s := Summary{
		Seed: c.Seed, People: len(w.o.People), ServiceAccounts: len(w.o.Machines), Days: c.Days, Start: c.Start,
		First: w.first, Last: w.last, Events: w.n, BySource: w.bySrc, Bytes: w.bytes, Truncated: w.full(),
	}
	if w.ct != nil {
		s.CloudTrailFiles = w.ct.files
	}
	for _, t := range w.truth {
		if s.ByRule == nil {
			s.ByRule = map[string]RuleCount{}
		}
		rc := s.ByRule[t.Rule]
		if t.Kind == KindAttack {
			s.Attacks++
			rc.Attacks++
		} else {
			s.Lookalikes++
			rc.Lookalikes++
		}
		s.ByRule[t.Rule] = rc
	}
	return s
}

// ctFiles writes CloudTrail delivery files: one per account, region and
// five minutes.
type ctFiles struct {
	root  string
	rng   *rand.Rand
	open  map[ctKey]*ctFile
	gz    *gzip.Writer
	files int
}

type ctKey struct{ acct, region string }

type ctFile struct {
	window time.Time
	buf    bytes.Buffer
}

const ctWindow = 5 * time.Minute

func (c *ctFiles) add(t time.Time, acct *Account, region string, rec []byte) error {
	k := ctKey{acct.ID, region}
	f := c.open[k]
	win := t.Truncate(ctWindow)
	if f != nil && !f.window.Equal(win) {
		if err := c.flush(k, f); err != nil {
			return err
		}
	}
	if f == nil {
		f = &ctFile{}
		c.open[k] = f
	}
	if f.buf.Len() == 0 {
		f.window = win
		f.buf.WriteString(`{"Records":[`)
	} else {
		f.buf.WriteByte(',')
	}
	f.buf.Write(rec)
	return nil
}

func (c *ctFiles) flush(k ctKey, f *ctFile) error {
	if f.buf.Len() == 0 {
		return nil
	}
	f.buf.WriteString("]}\n")
	end := f.window.Add(ctWindow)
	dir := filepath.Join(c.root, "AWSLogs", k.acct, "CloudTrail", k.region, end.Format("2006"), end.Format("01"), end.Format("02"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := fmt.Sprintf("%s_CloudTrail_%s_%s_%s.json.gz", k.acct, k.region, end.Format("20060102T1504Z"), alnum(c.rng, 16))
	out, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	if c.gz == nil {
		c.gz, _ = gzip.NewWriterLevel(out, gzip.BestSpeed)
	} else {
		c.gz.Reset(out)
	}
	_, err = c.gz.Write(f.buf.Bytes())
	err = errors.Join(err, c.gz.Close(), out.Close())
	f.buf.Reset()
	c.files++
	return err
}

func (c *ctFiles) closeAll() error {
	keys := make([]ctKey, 0, len(c.open))
	for k := range c.open {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].acct != keys[j].acct {
			return keys[i].acct < keys[j].acct
		}
		return keys[i].region < keys[j].region
	})
	var errs []error
	for _, k := range keys {
		errs = append(errs, c.flush(k, c.open[k]))
	}
	return errors.Join(errs...)
}

// Directory layout written by WriteDir, relative to its directory.
const (
	PathOkta       = "logs/okta/system-log.ndjson"
	PathEntra      = "logs/entra/signins.ndjson"
	PathCloudTrail = "logs/cloudtrail"                   // delivery files
	PathCTNDJSON   = "logs/cloudtrail/cloudtrail.ndjson" // with DirOptions.CloudTrailNDJSON
	PathTruth      = "truth.jsonl"
	PathOrg        = "org.json"
)

// DirOptions are WriteDir's choices.
type DirOptions struct {
	// CloudTrailNDJSON writes one NDJSON file instead of delivery files.
	CloudTrailNDJSON bool
}

// ErrExists is returned by WriteDir when the directory already holds a
// simulation.
var ErrExists = errors.New("output directory already holds a simulation")

// WriteDir runs the simulation of o into dir: logs/ (the input of vigil
// ingest and vigil detect), truth.jsonl and org.json. dir is created if
// needed; it must not hold an earlier simulation.
func WriteDir(ctx context.Context, dir string, o *Org, opt DirOptions) (Summary, error) {
	for _, p := range []string{"logs", PathTruth} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			return Summary{}, fmt.Errorf("%w: %s", ErrExists, filepath.Join(dir, p))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return Summary{}, err
		}
	}
	for _, d := range []string{"logs/okta", "logs/entra", PathCloudTrail} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return Summary{}, err
		}
	}
	var files []*os.File
	create := func(rel string) (*os.File, error) {
		f, err := os.Create(filepath.Join(dir, rel))
		if err == nil {
			files = append(files, f)
		}
		return f, err
	}
	closeAll := func() error {
		var errs []error
		for _, f := range files {
			errs = append(errs, f.Close())
		}
		return errors.Join(errs...)
	}
	out := Output{}
	var err error
	paths := []string{PathOkta, PathEntra}
	if out.Okta, err = create(PathOkta); err != nil {
		closeAll()
		return Summary{}, err
	}
	if out.Entra, err = create(PathEntra); err != nil {
		closeAll()
		return Summary{}, err
	}
	if opt.CloudTrailNDJSON {
		if out.CloudTrail, err = create(PathCTNDJSON); err != nil {
			closeAll()
			return Summary{}, err
		}
		paths = append(paths, PathCTNDJSON)
	} else {
		out.CloudTrailDir = filepath.Join(dir, PathCloudTrail)
		paths = append(paths, PathCloudTrail+"/")
	}
	if out.Truth, err = create(PathTruth); err != nil {
		closeAll()
		return Summary{}, err
	}
	sum, runErr := o.Run(ctx, out)
	if err := closeAll(); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		return sum, runErr
	}
	f, err := os.Create(filepath.Join(dir, PathOrg))
	if err != nil {
		return sum, err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	err = errors.Join(enc.Encode(o.Directory()), f.Close())
	sum.Files = append(paths, PathTruth, PathOrg)
	return sum, err
}

// Directory is org.json: who and what the organization is made of, for
// tests, the demo and inventories (machine identities as an NHI list, the
// corporate egress as known networks).
type Directory struct {
	Domain      string           `json:"domain"`
	EntraTenant string           `json:"entra_tenant"`
	Accounts    []*Account       `json:"aws_accounts"`
	People      []DirPerson      `json:"people"`
	Machines    []DirMachine     `json:"machines"`
	Corporate   []*Network       `json:"corporate_egress"`
	Networks    []*Network       `json:"networks"`
	Rules       []string         `json:"rules"`
	Attack      *DirAttackWindow `json:"attack_phase,omitempty"`
}

// DirPerson is one person of org.json.
type DirPerson struct {
	Login      string   `json:"login"`
	Name       string   `json:"name"`
	Department string   `json:"department"`
	Roles      []string `json:"roles,omitempty"`
	OktaID     string   `json:"okta_id"`
	EntraID    string   `json:"entra_id"`
	City       string   `json:"city"`
	UTCOffset  int      `json:"utc_offset_minutes"`
	ISP        string   `json:"isp"`
	ASN        uint32   `json:"asn"`
	Prefix     string   `json:"prefix"`
	VPN        bool     `json:"vpn,omitempty"`
	DTHash     string   `json:"dt_hash"`
	UserAgent  string   `json:"user_agent"`
	DeviceID   string   `json:"entra_device_id"`
	WorkStart  string   `json:"work_start"`
	WorkHours  float64  `json:"work_hours"`
	AWSRole    string   `json:"aws_permission_set,omitempty"`
	AccessKey  string   `json:"iam_access_key,omitempty"`
}

// DirMachine is one machine identity of org.json.
type DirMachine struct {
	// ID is the identity the CloudTrail decoder gives its calls.
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Type      string   `json:"type"` // "iam_user" or the role's kind
	Account   string   `json:"account"`
	Region    string   `json:"region"`
	UserAgent string   `json:"user_agent"`
	Family    string   `json:"ua_family"`
	Every     string   `json:"every"`
	Subnet    string   `json:"subnet,omitempty"`
	NAT       string   `json:"nat_prefix,omitempty"`
	AccessKey string   `json:"access_key,omitempty"`
	External  string   `json:"external_account,omitempty"`
	Services  []string `json:"services"`
}

// DirAttackWindow is when attacks and look-alikes happen.
type DirAttackWindow struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Directory returns org.json's content.
func (o *Org) Directory() Directory {
	d := Directory{Domain: o.Domain, EntraTenant: o.EntraTenant, Accounts: o.Accounts,
		Corporate: []*Network{corpUS, corpEU}, Networks: allNetworks(), Rules: Rules}
	if !o.cfg.NoAttacks {
		d.Attack = &DirAttackWindow{From: o.day(o.attackAt), To: o.day(o.attackEnd)}
	}
	roleNames := []struct {
		r Role
		n string
	}{{RoleOktaAdmin, "okta_admin"}, {RoleHelpdesk, "helpdesk"}, {RoleCloudAdmin, "cloud_admin"},
		{RoleEngineer, "engineer"}, {RoleAnalyst, "analyst"}, {RoleIAMUser, "iam_user"}}
	for i := range o.People {
		p := &o.People[i]
		dp := DirPerson{Login: p.Login, Name: p.Name, Department: p.Department, OktaID: p.OktaID, EntraID: p.EntraID,
			City: p.home.City, UTCOffset: p.home.Offset, ISP: p.homeNet.ISP, ASN: p.homeNet.ASN, Prefix: p.homeNet.Prefix.String(),
			VPN: p.VPN, DTHash: p.Device.DTHash, UserAgent: p.Device.UA, DeviceID: p.Device.EntraID,
			WorkStart: fmt.Sprintf("%02d:%02d", p.WorkStart/60, p.WorkStart%60), WorkHours: float64(p.WorkLen) / 60,
			AccessKey: p.AccessKey}
		if p.permSet != nil {
			dp.AWSRole = p.permSet.name
		}
		for _, rn := range roleNames {
			if p.Roles.Has(rn.r) {
				dp.Roles = append(dp.Roles, rn.n)
			}
		}
		d.People = append(d.People, dp)
	}
	kinds := map[sessKind]string{sessIAMUser: "iam_user", sessECS: "ecs_task_role", sessEC2: "ec2_instance_role",
		sessLambda: "lambda_role", sessExternal: "cross_account_role"}
	for _, m := range o.Machines {
		dm := DirMachine{ID: m.ID, Name: m.Name, Type: kinds[m.Kind], Account: m.Account.ID, Region: m.Region,
			UserAgent: m.UA, Family: m.Family, Every: m.Every.String(), AccessKey: m.AccessKey, External: m.External,
			NAT: m.NAT.Prefix.String()}
		if m.Subnet != nil {
			dm.Subnet = m.Subnet.Prefix.String()
		}
		for _, c := range m.Calls {
			if !slices.Contains(dm.Services, c.api.source) {
				dm.Services = append(dm.Services, c.api.source)
			}
		}
		d.Machines = append(d.Machines, dm)
	}
	return d
}
