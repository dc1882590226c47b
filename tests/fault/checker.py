#!/usr/bin/env python3
"""checker.py - verify a zchat-workload history (JSON lines) against guarantees G1-G6.

Usage: checker.py HISTORY [--faults FILE] [--grace S] [--delete-slack S]
       checker.py --self-test

Outcomes: code 0 = ok; a DEFINITE code means "not applied" (USER_EXISTS, NO_SUCH_USER,
QUEUE_FULL...); anything else (TIMEOUT, UNAVAILABLE, STALE_REQUEST, INTERNAL, no
completion at all) is indeterminate: it may take effect at any time after its invoke.

Checks (each violation is printed with the operations around it; exit 1 if any):
  phantom      a delivered text no send produced, sent to another user, or whose send
               failed definitely
  duplicate    a text delivered twice, or one (user, epoch, mseq) shown twice
  divergent    one (user, epoch, mseq) shown with two different texts
  gap          a receiver that is its user's only client saw mseq k+1 of an epoch but not
               k (or did not start at 1): a queued message was skipped
  order        two ok sends of one client to one user, the first completed before the
               second was invoked, delivered in the same epoch in the other order
  lost (G1)    an ok send S to user U not delivered, when (conservatively) no delete of U
               that is ok or indeterminate was invoked after... i.e. overlaps [S.invoke,
               end], and some client was connected as U (connect ok at time C, never
               closed until its stop) with stop >= max(S.complete, C, healed) + grace.
               "healed" is the workload's record of the fault schedule's final heal.
  after-delete (G6) a delivery of (U, e) more than --delete-slack after an ok delete of U
               completed, where epoch e was observed before that delete was invoked (so it
               was dead once the delete completed); with no slack when the delivered
               message's send was invoked after the delete completed
  resurrected (G6) a message delivered in epoch e whose send completed before the create
               that returned e was invoked (a re-created user must start empty)
  epoch        two ok creates of one user in real-time order returned non-increasing epochs
  linearizability (G2) per user name, the ok/definite create, delete, send, connect and list
               results admit no order respecting real time (indeterminate creates and
               deletes may take effect at any time after their invoke, or never)
"""
import bisect
import json
import re
import sys
from collections import defaultdict

DEFINITE = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 17}
USER_EXISTS, NO_SUCH_USER = 11, 12
INF = float("inf")


class Op:
    __slots__ = ("c", "id", "op", "name", "text", "pattern", "inv", "end", "code",
                 "epoch", "mseq", "users")

    def __init__(self, c, oid, op, inv):
        self.c, self.id, self.op, self.inv = c, oid, op, inv
        self.name = self.text = self.pattern = None
        self.end, self.code, self.epoch, self.mseq, self.users = INF, None, None, None, None

    @property
    def status(self):
        if self.code == 0:
            return "ok"
        if self.code in DEFINITE:
            return "fail"
        return "info"

    def describe(self, t0):
        end = "   never" if self.end == INF else "%8.3f" % ((self.end - t0) / 1e9)
        res = {"ok": "ok", "fail": "fail", "info": "indeterminate"}[self.status]
        if self.code not in (0, None):
            res += "(%d)" % self.code
        extra = ""
        if self.text is not None:
            extra += " text=%s" % self.text
        if self.pattern is not None:
            extra += " pattern=%r" % self.pattern
        if self.epoch is not None:
            extra += " epoch=%d" % self.epoch
        if self.users is not None:
            extra += " users=%s" % ",".join(self.users)
        return "[%8.3f ..%s] client %d op#%d %s %s -> %s%s" % (
            (self.inv - t0) / 1e9, end, self.c, self.id, self.op, self.name or "", res, extra)


class Delivery:
    __slots__ = ("c", "t", "name", "frm", "epoch", "mseq", "text")

    def __init__(self, d):
        self.c, self.t, self.name = d["c"], d["t"], d["name"]
        self.frm, self.epoch, self.mseq, self.text = d.get("from", ""), d["epoch"], d["mseq"], d["text"]

    def describe(self, t0):
        return "[%8.3f] client %d shown %s epoch=%d mseq=%d from=%s text=%s" % (
            (self.t - t0) / 1e9, self.c, self.name, self.epoch, self.mseq, self.frm, self.text)


class History:
    def __init__(self, records):
        self.ops, self.deliveries, self.closed, self.stops = {}, [], [], {}
        self.healed, self.users, self.t0 = None, set(), None
        for r in records:
            self._add(r)
        if self.t0 is None:
            self.t0 = min([o.inv for o in self.ops.values()] + [0])
        for o in self.ops.values():
            if o.name:
                self.users.add(o.name)

    def _add(self, r):
        typ, t = r.get("type"), r.get("t", 0)
        if typ == "meta":
            self.t0 = t
            self.users.update(r.get("users", []))
        elif typ == "invoke":
            o = Op(r["c"], r["id"], r["op"], t)
            o.name, o.text, o.pattern = r.get("name"), r.get("text"), r.get("pattern")
            self.ops[(o.c, o.id)] = o
        elif typ in ("ok", "done"):
            o = self.ops.get((r["c"], r["id"]))
            if o is None:
                raise ValueError("completion without invoke: %r" % r)
            o.end, o.code = t, r.get("code", 0 if typ == "ok" else 25)
            o.epoch, o.mseq, o.users = r.get("epoch"), r.get("mseq"), r.get("users")
        elif typ == "deliver":
            self.deliveries.append(Delivery(r))
        elif typ == "closed":
            self.closed.append((r["c"], t, r.get("name"), r.get("code")))
        elif typ == "stop":
            self.stops[r["c"]] = t
        elif typ == "healed":
            self.healed = max(self.healed or 0, t)


class Checker:
    def __init__(self, h, grace_s=8.0, delete_slack_s=3.0, faults=None, quiet=False):
        self.h, self.grace, self.slack = h, int(grace_s * 1e9), int(delete_slack_s * 1e9)
        self.faults, self.quiet = faults or [], quiet
        self.violations = []
        self.stats = {}
        self.sends = {o.text: o for o in h.ops.values() if o.op == "send" and o.text is not None}
        self.by_name = defaultdict(list)
        for o in h.ops.values():
            if o.name:
                self.by_name[o.name].append(o)
        for ops in self.by_name.values():
            ops.sort(key=lambda o: o.inv)
        self.delivered = defaultdict(list)
        for d in sorted(h.deliveries, key=lambda d: d.t):
            self.delivered[d.text].append(d)

    def violate(self, kind, msg, ops=(), deliveries=(), t=None):
        self.violations.append((kind, msg, list(ops), list(deliveries), t))

    # ---- phantoms, duplicates, gaps, order --------------------------------------
    def check_deliveries(self):
        seen = {}
        for d in sorted(self.h.deliveries, key=lambda d: d.t):
            s = self.sends.get(d.text)
            if s is None:
                self.violate("phantom", "delivered text was never sent", deliveries=[d], t=d.t)
            elif s.name != d.name:
                self.violate("phantom", "delivered to %s but sent to %s" % (d.name, s.name),
                             ops=[s], deliveries=[d], t=d.t)
            elif s.status == "fail":
                self.violate("phantom", "delivered although its send failed", ops=[s],
                             deliveries=[d], t=d.t)
            key = (d.name, d.epoch, d.mseq)
            if key in seen:
                first = seen[key]
                kind = "duplicate" if first.text == d.text else "divergent"
                self.violate(kind, "(user %s, epoch %d, mseq %d) shown twice" % key,
                             ops=[s] if s else [], deliveries=[first, d], t=d.t)
            else:
                seen[key] = d
        for text, ds in self.delivered.items():
            if len(ds) > 1 and len({(d.name, d.epoch, d.mseq) for d in ds}) > 1:
                self.violate("duplicate", "text %s shown %d times" % (text, len(ds)),
                             ops=[self.sends[text]] if text in self.sends else [],
                             deliveries=ds, t=ds[1].t)

    def check_gaps(self):
        connectors = defaultdict(set)
        for o in self.h.ops.values():
            if o.op == "connect":
                connectors[o.name].add(o.c)
        streams = defaultdict(list)
        for d in sorted(self.h.deliveries, key=lambda d: d.t):
            streams[(d.c, d.name, d.epoch)].append(d)
        for (c, name, epoch), ds in streams.items():
            sole = connectors.get(name) == {c}
            expect = 1 if sole else ds[0].mseq
            for d in ds:
                if d.mseq < expect:
                    continue        # duplicates are reported by check_deliveries
                if d.mseq > expect:
                    self.violate("gap", "client %d (only client of %s) never saw mseq %d..%d "
                                 "of epoch %d" % (c, name, expect, d.mseq - 1, epoch),
                                 deliveries=[x for x in ds if x.mseq >= expect - 1][:3], t=d.t)
                expect = d.mseq + 1

    def check_order(self):
        per = defaultdict(list)
        for o in self.sends.values():
            if o.status == "ok" and self.delivered.get(o.text):
                per[(o.c, o.name)].append(o)
        for (c, name), ops in per.items():
            ops.sort(key=lambda o: o.inv)
            last = {}
            for o in ops:
                d = self.delivered[o.text][0]
                prev = last.get(d.epoch)
                if prev and prev[0].end < o.inv and prev[1].mseq > d.mseq:
                    self.violate("order", "client %d sent %s before %s to %s, shown in the "
                                 "other order" % (c, prev[0].text, o.text, name),
                                 ops=[prev[0], o], deliveries=[prev[1], d], t=d.t)
                last[d.epoch] = (o, d)

    # ---- G1 lost -----------------------------------------------------------------
    def sessions(self):
        """name -> list of (client, connected_at, stop_t) for sessions open until stop."""
        out = defaultdict(list)
        closes = defaultdict(list)
        for c, t, name, _ in self.h.closed:
            closes[(c, name)].append(t)
        last = {}
        for o in self.h.ops.values():
            if o.op == "connect" and o.status == "ok":
                k = (o.c, o.name)
                if k not in last or last[k].end < o.end:
                    last[k] = o
        for (c, name), o in last.items():
            if c in self.h.stops and not any(t > o.end for t in closes[(c, name)]):
                out[name].append((c, o.end, self.h.stops[c]))
        return out

    def check_lost(self):
        sessions = self.sessions()
        healed = self.h.healed or 0
        delivered = maybe_deleted = unverified = 0
        for s in self.sends.values():
            if s.status != "ok":
                continue
            if self.delivered.get(s.text):
                delivered += 1
                continue
            deletes = [o for o in self.by_name[s.name]
                       if o.op == "delete" and o.status != "fail" and o.end > s.inv]
            if deletes:
                maybe_deleted += 1
                continue
            cover = [x for x in sessions.get(s.name, [])
                     if x[2] >= max(s.end, x[1], healed) + self.grace]
            if not cover:
                unverified += 1
                continue
            c, since, stop = cover[0]
            self.violate("lost", "ok send to %s never delivered although client %d was "
                         "connected as %s from %.3f to its stop at %.3f" % (
                             s.name, c, s.name, (since - self.h.t0) / 1e9,
                             (stop - self.h.t0) / 1e9), ops=[s], t=s.end)
        self.stats.update(sends_ok_delivered=delivered, sends_ok_maybe_deleted=maybe_deleted,
                          sends_ok_unverifiable=unverified)

    # ---- G6 delete is final, re-create starts empty ----------------------------------
    def check_delete(self):
        for name, ops in self.by_name.items():
            evidence = []       # (time the epoch was known to exist, epoch)
            for o in ops:
                if o.status == "ok" and o.op in ("create", "connect") and o.epoch is not None:
                    evidence.append((o.end, o.epoch))
            evidence += [(d.t, d.epoch) for d in self.h.deliveries if d.name == name]
            evidence.sort()
            ev_t = [e[0] for e in evidence]
            ev_max, m = [], 0
            for _, e in evidence:
                m = max(m, e)
                ev_max.append(m)
            dels = []
            for o in ops:
                if o.op == "delete" and o.status == "ok":
                    i = bisect.bisect_left(ev_t, o.inv)
                    if i:
                        dels.append((o.end, ev_max[i - 1], o))
            dels.sort(key=lambda x: x[0])
            d_t = [x[0] for x in dels]
            d_best = []         # prefix: the delete with the largest dead epoch
            for x in dels:
                d_best.append(x if not d_best or x[1] > d_best[-1][1] else d_best[-1])
            creates = {o.epoch: o for o in ops if o.op == "create" and o.status == "ok"}
            for d in self.h.deliveries:
                if d.name != name:
                    continue
                s = self.sends.get(d.text)
                self._after_delete(d, s, d_t, d_best)
                c = creates.get(d.epoch)
                if c and s and s.status != "info" and s.end < c.inv:
                    self.violate("resurrected", "message sent before %s was re-created is "
                                 "shown in the new epoch %d" % (name, d.epoch),
                                 ops=[s, c], deliveries=[d], t=d.t)

    def _after_delete(self, d, s, d_t, d_best):
        i = bisect.bisect_left(d_t, d.t - self.slack)
        if i and d_best[i - 1][1] >= d.epoch:
            dl = d_best[i - 1][2]
            self.violate("after-delete", "epoch %d of %s shown %.3f s after a delete was "
                         "acknowledged" % (d.epoch, d.name, (d.t - dl.end) / 1e9),
                         ops=[dl] + ([s] if s else []), deliveries=[d], t=d.t)
            return
        if s is None:
            return
        j = bisect.bisect_left(d_t, s.inv)
        if j and d_best[j - 1][1] >= d.epoch:
            dl = d_best[j - 1][2]
            self.violate("after-delete", "message sent after the delete of %s was "
                         "acknowledged is shown in the dead epoch %d" % (d.name, d.epoch),
                         ops=[dl, s], deliveries=[d], t=d.t)

    def check_epochs(self):
        for name, ops in self.by_name.items():
            cs = []
            for o in ops:
                if o.op in ("create", "connect") and o.status == "ok" and not o.epoch:
                    self.violate("epoch", "ok %s of %s carries no epoch (0): a REPLY to it "
                                 "must name the incarnation" % (o.op, name), ops=[o], t=o.end)
                elif o.op == "create" and o.status == "ok":
                    cs.append(o)
            best = None         # among creates completed so far: the largest epoch
            by_end = sorted(cs, key=lambda o: o.end)
            k = 0
            for o in sorted(cs, key=lambda o: o.inv):
                while k < len(by_end) and by_end[k].end < o.inv:
                    if best is None or by_end[k].epoch > best.epoch:
                        best = by_end[k]
                    k += 1
                if best is not None and best.epoch >= o.epoch:
                    self.violate("epoch", "create of %s returned epoch %d after an earlier "
                                 "create returned %d" % (name, o.epoch, best.epoch),
                                 ops=[best, o], t=o.end)

    # ---- G2 linearizability, per user name ---------------------------------------------
    def requirement(self, o, name):
        """What op o says about name: ('pre', state) or ('set', from, to) or None."""
        if o.op == "list":
            if o.status != "ok" or o.users is None:
                return None
            if o.pattern and not re.search(o.pattern, name):
                return None
            return ("pre", name in o.users)
        if o.status == "ok":
            return {"create": ("set", False, True), "delete": ("set", True, False),
                    "send": ("pre", True), "connect": ("pre", True)}.get(o.op)
        if o.status == "fail":
            if o.code == USER_EXISTS and o.op == "create":
                return ("pre", True)
            if o.code == NO_SUCH_USER and o.op in ("delete", "send", "connect"):
                return ("pre", False)
        return None

    def check_linearizable(self):
        lists = [o for o in self.h.ops.values() if o.op == "list"]
        for name in sorted(self.h.users):
            events = []
            reqs = {}
            for o in self.by_name.get(name, []) + lists:
                r = self.requirement(o, name)
                if r is not None:
                    reqs[id(o)] = (o, r)
                    events.append((o.inv, 0, "inv", o))
                    events.append((o.end, 1, "end", o))
                elif o.status == "info" and o.op in ("create", "delete") and o.name == name:
                    events.append((o.inv, 0, o.op, o))
            events.sort(key=lambda e: (e[0], e[1]))
            self._lin_name(name, events, reqs)

    @staticmethod
    def _step(state, r):
        if r[0] == "pre":
            return state if state == r[1] else None
        return r[2] if state == r[1] else None

    def _lin_name(self, name, events, reqs):
        configs = {(False, frozenset(), 0, 0)}
        done, reported = [], 0
        for _, _, kind, o in events:
            if kind == "create" or kind == "delete":
                ci, di = (1, 0) if kind == "create" else (0, 1)
                configs = {(s, p, c + ci, d + di) for s, p, c, d in configs}
            elif kind == "inv":
                configs = {(s, p | {id(o)}, c, d) for s, p, c, d in configs}
            else:
                new = self._closure(configs, id(o), reqs)
                if not new:
                    reported += 1
                    if reported <= 3:
                        pend = [reqs[x][0] for x in next(iter(configs))[1] if x != id(o)]
                        self.violate("linearizability", "no order of the operations on %s "
                                     "explains this result" % name,
                                     ops=done[-6:] + pend + [o], t=o.end)
                    new = {(s, p - {id(o)}, c, d) for _, p, c, d in configs for s in (False, True)}
                configs = self._prune(new)
                done.append(o)
        if reported > 3:
            self.violate("linearizability", "%d more on %s not shown" % (reported - 3, name))

    def _closure(self, configs, target, reqs):
        out, seen = set(), set()
        stack = list(configs)
        while stack:
            cfg = stack.pop()
            if cfg in seen:
                continue
            seen.add(cfg)
            s, p, c, d = cfg
            if target not in p:
                out.add(cfg)
                continue
            for x in p:
                ns = self._step(s, reqs[x][1])
                if ns is not None:
                    stack.append((ns, p - {x}, c, d))
            if c and not s:
                stack.append((True, p, c - 1, d))
            if d and s:
                stack.append((False, p, c, d - 1))
        return out

    @staticmethod
    def _prune(configs):
        """Keep, per (state, pending), only token counts no other config dominates."""
        groups = defaultdict(list)
        for s, p, c, d in configs:
            groups[(s, p)].append((c, d))
        out = set()
        for (s, p), cds in groups.items():
            for c, d in cds:
                if not any(c2 >= c and d2 >= d and (c2, d2) != (c, d) for c2, d2 in cds):
                    out.add((s, p, c, d))
        return out

    # ---- driver -------------------------------------------------------------------
    def run(self):
        self.check_deliveries()
        self.check_gaps()
        self.check_order()
        self.check_lost()
        self.check_delete()
        self.check_epochs()
        self.check_linearizable()
        ops = list(self.h.ops.values())
        self.stats.update({
            "ops": len(ops),
            "ok": sum(o.status == "ok" for o in ops),
            "errors": sum(o.status == "fail" for o in ops),
            "indeterminate": sum(o.status == "info" for o in ops),
            "sends_ok": sum(o.op == "send" and o.status == "ok" for o in ops),
            "deliveries": len(self.h.deliveries),
            "violations": len(self.violations),
        })
        return self.violations

    def report(self, out=sys.stdout):
        t0 = self.h.t0
        for kind, msg, ops, dels, t in self.violations:
            print("VIOLATION %s: %s" % (kind, msg), file=out)
            for o in ops:
                print("    op       " + o.describe(t0), file=out)
            for d in dels:
                print("    delivery " + d.describe(t0), file=out)
            if t is not None:
                for f in self.faults:
                    if abs(f.get("t", 0) - t) < 5e9:
                        print("    fault    [%8.3f] %s" % ((f["t"] - t0) / 1e9,
                              " ".join("%s=%s" % kv for kv in f.items() if kv[0] != "t")),
                              file=out)
        s = self.stats
        print("history: ops=%d ok=%d errors=%d indeterminate=%d deliveries=%d" % (
            s["ops"], s["ok"], s["errors"], s["indeterminate"], s["deliveries"]), file=out)
        print("ok sends: %d, delivered %d, possibly deleted %d, not verifiable (no session "
              "long enough) %d" % (s["sends_ok"], s["sends_ok_delivered"],
                                   s["sends_ok_maybe_deleted"], s["sends_ok_unverifiable"]),
              file=out)
        print("healed=%s faults=%d violations=%d" % (
                  "yes" if self.h.healed else "no",
                  sum(1 for f in self.faults if f.get("phase") == "start"), s["violations"]),
              file=out)


def load_jsonl(path):
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                # the workload may have been killed mid-line: only the last line may be torn
                print("warning: %s:%d is not JSON, ignored" % (path, n), file=sys.stderr)
    return out


# ---- self-test: synthetic histories with one known fault each -------------------------
class Synth:
    def __init__(self):
        self.recs = [{"t": 0, "type": "meta", "users": ["s0"]}]
        self.next_id = defaultdict(int)

    def op(self, c, op, name, inv, end, code=0, **kw):
        self.next_id[c] += 1
        oid = self.next_id[c]
        r = {"t": int(inv * 1e9), "c": c, "type": "invoke", "id": oid, "op": op}
        if name:
            r["name"] = name
        for k in ("text", "pattern"):
            if k in kw:
                r[k] = kw.pop(k)
        self.recs.append(r)
        if end is not None:
            done = {"t": int(end * 1e9), "c": c, "type": "ok" if code == 0 else "done",
                    "id": oid, "op": op, "code": code}
            done.update(kw)
            self.recs.append(done)
        return self

    def deliver(self, c, t, name, epoch, mseq, text):
        self.recs.append({"t": int(t * 1e9), "c": c, "type": "deliver", "name": name,
                          "from": "", "epoch": epoch, "mseq": mseq, "text": text})
        return self

    def stop(self, t):
        for c in (0, 1):
            self.recs.append({"t": int(t * 1e9), "c": c, "type": "stop"})
        return self


def _base(second_send_delivered=True, order=(1, 2)):
    h = Synth()
    h.op(0, "create", "s0", 0, 1, epoch=5).op(0, "connect", "s0", 1, 2, epoch=5, mseq=0)
    h.op(1, "send", "s0", 3, 4, text="w1-1").op(1, "send", "s0", 5, 6, text="w1-2")
    h.deliver(0, 4.5, "s0", 5, order[0], "w1-1")
    if second_send_delivered:
        h.deliver(0, 6.5, "s0", 5, order[1], "w1-2")
    h.op(1, "list", None, 7, 8, users=["s0"])
    h.op(1, "create", "s0", 9, 10, code=USER_EXISTS)
    return h


def self_test():
    def kinds(h):
        c = Checker(History(h.recs), quiet=True)
        c.run()
        return {v[0] for v in c.violations}, c

    cases = []
    cases.append(("clean history passes", _base().stop(30), set()))
    cases.append(("lost message", _base(second_send_delivered=False).stop(30), {"lost"}))
    cases.append(("duplicate", _base().deliver(0, 7, "s0", 5, 2, "w1-2").stop(30), {"duplicate"}))
    cases.append(("phantom", _base().deliver(0, 7, "s0", 5, 3, "w9-9").stop(30), {"phantom"}))
    cases.append(("reorder", _base(order=(2, 1)).stop(30), {"order", "gap"}))
    cases.append(("gap", _base().deliver(0, 7, "s0", 5, 4, "w1-4").op(1, "send", "s0", 6.6, 6.9,
                                                                         text="w1-4").stop(30),
                  {"gap"}))
    h = _base().op(1, "send", "s0", 10.2, 10.5, text="w1-3").op(1, "delete", "s0", 11, 12)
    h.deliver(0, 20, "s0", 5, 3, "w1-3").stop(30)
    cases.append(("delivery after delete", h, {"after-delete"}))
    h = _base().op(1, "delete", "s0", 11, 12).op(1, "send", "s0", 12.5, 13, text="w1-3")
    h.deliver(0, 13.1, "s0", 5, 3, "w1-3").stop(30)
    cases.append(("send after delete shown in the dead epoch", h, {"after-delete", "linearizability"}))
    h = _base().op(1, "create", "s0", 11, 12, epoch=9).stop(30)
    cases.append(("impossible create pair", h, {"linearizability"}))
    h = _base().op(1, "list", None, 11, 12, users=[]).stop(30)
    cases.append(("list misses an acknowledged create", h, {"linearizability"}))
    h = _base().op(1, "delete", "s0", 11, None).op(1, "create", "s0", 14, 15, epoch=9)
    h.op(1, "list", None, 16, 17, users=["s0"]).stop(30)
    cases.append(("indeterminate delete explains a second create", h, set()))
    h = _base().op(1, "create", "s0", 11, 12, code=25).op(1, "list", "", 13, 14, users=["s0"])
    h.stop(30)
    cases.append(("indeterminate create is harmless", h, set()))
    h = _base(second_send_delivered=False).op(1, "delete", "s0", 7, None).stop(30)
    cases.append(("possibly deleted message is not lost", h, set()))
    h = _base().op(1, "delete", "s0", 11, 12).op(1, "create", "s0", 13, 14, epoch=9)
    h.deliver(0, 15, "s0", 9, 1, "w1-1").stop(30)
    cases.append(("re-created user shows an old message", h, {"resurrected", "duplicate"}))
    h = _base().op(1, "delete", "s0", 11, 12).op(1, "create", "s0", 13, 14, epoch=0).stop(30)
    cases.append(("ok create without an epoch", h, {"epoch"}))
    failed = 0
    for title, h, want in cases:
        got, c = kinds(h)
        ok = got == want
        failed += not ok
        print("%s - %s (want %s, got %s)" % ("ok  " if ok else "FAIL", title,
                                             sorted(want) or "none", sorted(got) or "none"))
        if not ok:
            c.report()
    print("self-test: %d of %d cases failed" % (failed, len(cases)))
    return 1 if failed else 0


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("history", nargs="?")
    ap.add_argument("--faults", help="fault log (JSON lines with t = CLOCK_MONOTONIC ns)")
    ap.add_argument("--grace", type=float, default=8.0,
                    help="seconds a session must stay after a send (and the heal) [8]")
    ap.add_argument("--delete-slack", type=float, default=3.0,
                    help="seconds a push may trail an acknowledged delete [3]")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args(argv)
    if a.self_test:
        return self_test()
    if not a.history:
        ap.error("HISTORY is required")
    faults = load_jsonl(a.faults) if a.faults else []
    c = Checker(History(load_jsonl(a.history)), a.grace, a.delete_slack, faults)
    c.run()
    c.report()
    return 1 if c.violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
