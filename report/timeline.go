package report

import (
	"slices"
	"strconv"

	"github.com/faultline/faultline/history"
)

// timelineValueMax is how many bytes of an op's value the timeline keeps;
// longer values are cut (the history file has them whole).
const timelineValueMax = 160

// Op outcome codes in the timeline's data.
const (
	tlOK = iota
	tlFail
	tlInfo
	tlPending // never completed
	tlNemesis
)

// timelineMaxRows bounds the events (rows) the timeline embeds. A longer
// history gets a window of that many events around the first op its
// results cite (from the start when they cite none); the page says so, and
// the history file has every op. Beyond a few hundred thousand events the
// page takes long to build and a browser long to load.
var timelineMaxRows = 250_000

// timelineWindow returns the positions [lo, hi) of the events the
// timeline of n events shows, focused on position focus (-1: none).
func timelineWindow(n, focus int) (lo, hi int) {
	if n <= timelineMaxRows {
		return 0, n
	}
	if focus > 0 {
		lo = max(0, focus-timelineMaxRows/4)
	}
	hi = min(n, lo+timelineMaxRows)
	return max(0, hi-timelineMaxRows), hi
}

// timelineHTML renders timeline.html: a self-contained page whose data is a
// compact JSON array (one entry per op, from invocation to completion) that
// a small script draws, only the rows in view, so that a history of any
// length scrolls without rendering all of it. focus is the index of the op
// to keep in view when the history is too long to embed whole (-1: none).
func timelineHTML(d *runData, concurrency, focus int) []byte {
	h := d.h
	// Columns: the nemesis, the faults (intervals), then client processes.
	procs := map[int]bool{}
	nemesis := false
	for i := range h.Ops {
		if h.Ops[i].IsNemesis() {
			nemesis = true
		} else {
			procs[h.Ops[i].Process] = true
		}
	}
	clients := make([]int, 0, len(procs))
	for p := range procs {
		clients = append(clients, p)
	}
	slices.Sort(clients)
	var cols, tcols []string
	var tmap []int
	colOf := map[int]int{}
	if nemesis {
		colOf[history.NemesisProcess] = len(cols)
		cols = append(cols, "nemesis")
		tmap = append(tmap, len(tcols))
		tcols = append(tcols, "nemesis")
	}
	faultCol := -1
	if len(d.intervals) > 0 {
		faultCol = len(cols)
		cols = append(cols, "faults")
		tmap = append(tmap, len(tcols))
		tcols = append(tcols, "faults")
	}
	threads := concurrency > 0 && len(clients) > 0 && clients[len(clients)-1] >= concurrency && threadsDisjoint(h, concurrency)
	base := len(tcols)
	if threads {
		for t := range concurrency {
			tcols = append(tcols, "thread "+strconv.Itoa(t))
		}
	}
	for _, p := range clients {
		colOf[p] = len(cols)
		cols = append(cols, strconv.Itoa(p))
		if threads {
			tmap = append(tmap, base+p%concurrency)
		}
	}

	// Positions of op indexes, when they differ.
	indexIsPos := true
	for i := range h.Ops {
		if h.Ops[i].Index != i {
			indexIsPos = false
			break
		}
	}
	var posOf map[int]int
	if !indexIsPos {
		posOf = make(map[int]int, len(h.Ops))
		for i := range h.Ops {
			posOf[h.Ops[i].Index] = i
		}
	}
	pos := func(index int) int {
		if index < 0 {
			return -1
		}
		if indexIsPos {
			return index
		}
		if p, ok := posOf[index]; ok {
			return p
		}
		return -1
	}

	lo, hi := timelineWindow(len(h.Ops), pos(focus))
	// One buffer for the whole page: a large history's data is hundreds
	// of megabytes, not worth copying again.
	b := make([]byte, 0, 64*(hi-lo)/2+len(timelineHead)+len(timelineMid)+len(timelineTail)+4096)
	b = append(b, timelineHead...)
	b = append(b, esc(d.title("timeline"))...)
	b = append(b, timelineMid...)
	b = append(b, `{"name":`...)
	b = appendJSONString(b, d.name)
	b = append(b, `,"rows":`...)
	b = appendInt(b, int64(hi-lo))
	b = append(b, `,"base":`...)
	b = appendInt(b, int64(lo))
	b = append(b, `,"total":`...)
	b = appendInt(b, int64(len(h.Ops)))
	b = append(b, `,"faultCol":`...)
	b = appendInt(b, int64(faultCol))
	b = appendStrings(append(b, `,"cols":`...), cols)
	if threads {
		b = appendStrings(append(b, `,"tcols":`...), tcols)
		b = append(b, `,"tmap":[`...)
		for i, t := range tmap {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendInt(b, int64(t))
		}
		b = append(b, ']')
	}
	b = appendStrings(append(b, `,"fs":`...), d.fs)
	b = append(b, `,"tstep":10,"times":[`...)
	for i := lo; i < hi; i += 10 {
		if i > lo {
			b = append(b, ',')
		}
		b = appendInt(b, micros(h.Ops[i].Time))
	}
	b = append(b, ']')
	if !indexIsPos {
		b = append(b, `,"index":[`...)
		for i := lo; i < hi; i++ {
			if i > lo {
				b = append(b, ',')
			}
			b = appendInt(b, int64(h.Ops[i].Index))
		}
		b = append(b, ']')
	}
	b = append(b, `,"faults":[`...)
	firstFault := true
	for _, iv := range d.intervals {
		s, e := pos(iv.StartIndex), pos(iv.EndIndex)
		if s >= hi || e >= 0 && e < lo {
			continue // outside the window
		}
		s = max(s, lo) - lo
		if e >= hi {
			e = -1 // on past the window's end
		} else if e >= 0 {
			e -= lo
		}
		if !firstFault {
			b = append(b, ',')
		}
		firstFault = false
		colour := colourPending
		if li, ok := d.laneOf[iv.Name]; ok {
			colour = d.lanes[li].colour
		}
		b = append(b, '[')
		b = appendJSONString(b, iv.Name)
		b = append(b, ',')
		b = appendInt(b, int64(max(s, 0)))
		b = append(b, ',')
		b = appendInt(b, int64(e))
		b = append(b, ',')
		b = appendJSONString(b, intervalTip(iv))
		b = append(b, ',')
		b = appendJSONString(b, colour)
		b = append(b, ']')
	}
	b = append(b, `],"ops":[`...)
	first := true
	for i := lo; i < hi; i++ {
		op := &h.Ops[i]
		j := h.Pair(i)
		if j >= 0 && j < i {
			continue // a completion: drawn with its invocation
		}
		if op.IsClient() && op.Type != history.Invoke {
			continue // cannot happen in a paired history
		}
		var comp *history.Op
		if j > i {
			comp = &h.Ops[j]
		}
		typ := tlPending
		switch {
		case op.IsNemesis():
			typ = tlNemesis
		case comp == nil:
		case comp.Type == history.OK:
			typ = tlOK
		case comp.Type == history.Fail:
			typ = tlFail
		default:
			typ = tlInfo
		}
		end := int64(-1)
		if comp != nil {
			end = int64(min(j, hi-1) - lo) // drawn to the window's end
		} else if op.IsNemesis() {
			end = int64(i - lo)
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '[')
		b = appendInt(b, int64(colOf[op.Process]))
		b = append(b, ',')
		b = appendInt(b, int64(i-lo))
		b = append(b, ',')
		b = appendInt(b, end)
		b = append(b, ',')
		b = appendInt(b, int64(typ))
		b = append(b, ',')
		fi, ok := d.fIndex[op.F]
		if op.IsClient() && ok {
			b = appendInt(b, int64(fi))
		} else {
			b = appendJSONString(b, op.F) // nemesis fs by name
		}
		b = append(b, ',')
		b = appendJSONString(b, valueText(op.Key, op.Key != nil))
		b = append(b, ',')
		b = appendJSONString(b, valueText(op.Value, true))
		b = append(b, ',')
		var cv, ce string
		lat := int64(-1)
		if comp != nil {
			cv = valueText(comp.Value, true)
			ce = valueText(comp.Error, comp.Error != nil)
			if comp.Time >= 0 && op.Time >= 0 {
				lat = micros(comp.Time - op.Time)
			}
		}
		b = appendJSONString(b, cv)
		b = append(b, ',')
		b = appendJSONString(b, ce)
		b = append(b, ',')
		b = appendInt(b, micros(op.Time))
		b = append(b, ',')
		b = appendInt(b, lat)
		b = append(b, ']')
	}
	b = append(b, "]}"...)
	return append(b, timelineTail...)
}

// threadsDisjoint reports whether the ops of the processes of each thread
// (process mod concurrency) follow one another without overlapping, as they
// do when concurrency is the test's: then one column per thread is a true
// picture.
func threadsDisjoint(h *history.History, concurrency int) bool {
	busy := make([]bool, concurrency)
	for i := range h.Ops {
		op := &h.Ops[i]
		if !op.IsClient() {
			continue
		}
		th := op.Process % concurrency
		switch {
		case op.Type == history.Invoke:
			if busy[th] {
				return false
			}
			busy[th] = true
		default:
			busy[th] = false
		}
	}
	return true
}

// valueText renders a value for the timeline, cut to timelineValueMax
// bytes; "" when absent.
func valueText(v any, present bool) string {
	if !present {
		return ""
	}
	return clip(history.Format(v), timelineValueMax)
}

// micros converts ns to µs, keeping -1 for unknown times.
func micros(ns int64) int64 {
	if ns < 0 {
		return -1
	}
	return ns / 1000
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

const timelineHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>`

// The page: a fixed bar (title, legend, controls) above a scrolling view.
// The view holds one element as tall as all rows; on every scroll the
// script draws the header, the time gutter and the ops of the rows in view.
const timelineMid = `</title>
<style>
body{margin:0;font:13px sans-serif;color:#222;background:#fff}
#bar{padding:6px 10px;border-bottom:1px solid #ccc;background:#f7f7f7;display:flex;flex-wrap:wrap;gap:6px 16px;align-items:center}
#bar h1{font-size:15px;margin:0}
#bar a{color:#1a5fb4}
.sw{display:inline-block;width:12px;height:12px;vertical-align:-2px;margin-right:3px;border:1px solid #0003}
#view{position:absolute;left:0;right:0;bottom:0;overflow:auto}
#inner{position:relative}
.op{position:absolute;box-sizing:border-box;border:1px solid #0004;border-radius:2px;overflow:hidden;white-space:nowrap;font-size:11px;line-height:13px;padding:0 2px;cursor:pointer}
.t0{background:#9cc8ee}.t1{background:#f4a9c0}.t2{background:#fad08f}.t3{background:#ddd;border-style:dashed}.t4{background:#d9c6e8}
.dim{opacity:.18}
.hl{outline:3px solid #000;z-index:3}
.band{position:absolute;opacity:.13;pointer-events:none}
.fault{position:absolute;box-sizing:border-box;border:1px solid #0005;color:#fff;font-size:11px;padding:0 3px;overflow:hidden;white-space:nowrap;opacity:.85}
.hdr{position:absolute;height:24px;line-height:24px;background:#eee;border-bottom:1px solid #bbb;text-align:center;font-weight:bold;z-index:4;overflow:hidden;white-space:nowrap}
.gut{position:absolute;left:0;width:112px;font-size:11px;color:#555;border-top:1px solid #ddd;background:#fafafa;z-index:2;padding-left:3px;box-sizing:border-box}
#tip{position:fixed;display:none;max-width:560px;background:#222;color:#fff;padding:6px 8px;border-radius:4px;font:12px monospace;white-space:pre-wrap;z-index:10;pointer-events:none}
</style>
</head>
<body>
<div id="bar">
<h1 id="title"></h1>
<span><span class="sw t0"></span>ok <span class="sw t1"></span>fail <span class="sw t2"></span>info <span class="sw t3"></span>never completed <span class="sw t4"></span>nemesis</span>
<label>rows <select id="rowh"><option>2</option><option>4</option><option>8</option><option>16</option><option>24</option></select> px</label>
<label id="thl" hidden><input type="checkbox" id="threads"> one column per thread</label>
<label>highlight <input id="filter" size="16" placeholder="text, or key=K"></label>
<label>go to op <input id="goto" size="8" placeholder="index"></label>
<span id="count"></span>
<a href="index.html">run</a>
</div>
<noscript>This timeline is drawn by a script; enable JavaScript to see it.</noscript>
<div id="view"><div id="inner"></div></div>
<div id="tip"></div>
<script type="application/json" id="data">`

const timelineTail = `</script>
<script>
"use strict";
(function(){
const D=JSON.parse(document.getElementById("data").textContent);
const HEAD=24,GUT=112,COLW=104,LONG=2000,MAXEL=6000;
const TYPES=["ok","fail","info","never completed","nemesis"];
const view=document.getElementById("view"),inner=document.getElementById("inner"),tip=document.getElementById("tip");
const bar=document.getElementById("bar");
document.getElementById("title").textContent=D.name?D.name+": timeline":"timeline";
const ops=D.ops,rows=D.rows;
const longOps=[];
for(let k=0;k<ops.length;k++){const o=ops[k];const e=o[2]<0?rows-1:o[2];if(e-o[1]>LONG)longOps.push(k);}
let rowH=rows>0?Math.max(2,Math.min(16,Math.floor(16e6/rows))):16;
const sel=document.getElementById("rowh");
if(![...sel.options].some(o=>+o.text===rowH)){const o=document.createElement("option");o.text=String(rowH);sel.add(o);}
sel.value=String(rowH);
let useThreads=false,filter="",hl=-1;
if(D.tcols){document.getElementById("thl").hidden=false;
 useThreads=D.cols.length>2*D.tcols.length;document.getElementById("threads").checked=useThreads;}
document.getElementById("count").textContent=ops.length+" ops, "+rows+" events"+(D.total>rows?" (events "+D.base+" to "+(D.base+rows-1)+" of "+D.total+"; the history file has them all)":"");
function cols(){return useThreads?D.tcols:D.cols;}
function colOf(c){return useThreads?D.tmap[c]:c;}
function index(pos){return D.index?D.index[pos]:(D.base||0)+pos;}
function posOfIndex(ix){if(!D.index)return ix-(D.base||0);return D.index.indexOf(ix);}
function fname(o){return typeof o[4]==="number"?D.fs[o[4]]:o[4];}
function endRow(o){return o[2]<0?rows-1:o[2];}
function esc(s){return String(s).replace(/[&<>"]/g,c=>({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"})[c]);}
function secs(us){return us<0?"?":(us/1e6).toFixed(3)+" s";}
function dur(us){return us<0?"?":us<1000?us+" µs":us<1e6?(us/1000).toFixed(2)+" ms":(us/1e6).toFixed(3)+" s";}
function timeAt(row){const i=Math.floor(row/D.tstep);return i<D.times.length?D.times[i]:-1;}
function layout(){view.style.top=bar.offsetHeight+"px";inner.style.height=(HEAD+rows*rowH+rowH)+"px";inner.style.width=(GUT+cols().length*COLW)+"px";}
function unq(s){return s.replace(/^"(.*)"$/,"$1");}
function matches(o){if(!filter)return true;if(filter.startsWith("key="))return unq(o[5].toLowerCase())===unq(filter.slice(4).trim());const s=(fname(o)+" "+o[5]+" "+o[6]+" "+o[7]+" "+o[8]).toLowerCase();return s.includes(filter);}
function lower(r){let lo=0,hi=ops.length;while(lo<hi){const m=(lo+hi)>>1;if(ops[m][1]<r)lo=m+1;else hi=m;}return lo;}
function render(){
 const top=view.scrollTop,h=view.clientHeight,left=view.scrollLeft,w=view.clientWidth;
 const r0=Math.max(0,Math.floor((top-HEAD)/rowH)-2),r1=Math.ceil((top+h)/rowH)+2;
 const c0=Math.floor((left-GUT)/COLW)-1,c1=Math.ceil((left+w)/COLW)+1;
 const out=[];
 for(const f of D.faults){const s=f[1],e=f[2]<0?rows-1:f[2];if(e<r0||s>r1)continue;
  out.push('<div class="band" style="left:'+GUT+'px;right:0;top:'+(HEAD+s*rowH)+'px;height:'+((e-s+1)*rowH)+'px;background:'+f[4]+'"></div>');
  if(D.faultCol>=0){const c=colOf(D.faultCol),y0=HEAD+s*rowH,hh=Math.max(2,(e-s+1)*rowH-1);
   const ly=Math.min(Math.max(0,top+HEAD+2-y0),Math.max(0,hh-14));
   out.push('<div class="fault" title="'+esc(f[3])+'" style="left:'+(GUT+c*COLW+2)+'px;width:'+(COLW-4)+'px;top:'+y0+'px;height:'+hh+'px;background:'+f[4]+'"><span style="position:relative;top:'+ly+'px">'+esc(f[0])+'</span></div>');}}
 let n=0;
 const draw=k=>{const o=ops[k],c=colOf(o[0]);if(c<c0||c>c1)return;const s=o[1],e=endRow(o);if(e<r0||s>r1)return;
  const hgt=Math.max(2,(e-s+1)*rowH-1);let cls="op t"+o[3];if(!matches(o))cls+=" dim";if(k===hl)cls+=" hl";
  const label=rowH>=12?esc(fname(o)+" "+(o[3]===0||o[3]===4?o[7]||o[6]:o[6])):"";
  out.push('<div class="'+cls+'" data-k="'+k+'" style="left:'+(GUT+c*COLW+2)+'px;width:'+(COLW-4)+'px;top:'+(HEAD+s*rowH)+'px;height:'+hgt+'px">'+label+'</div>');n++;};
 for(const k of longOps)draw(k);
 for(let k=lower(r0-LONG);k<ops.length&&ops[k][1]<=r1&&n<MAXEL;k++){const o=ops[k];if(endRow(o)-o[1]<=LONG)draw(k);}
 const cs=cols();
 out.push('<div class="hdr" style="left:0;width:'+GUT+'px;top:'+top+'px">op · time</div>');
 for(let c=Math.max(0,c0);c<Math.min(cs.length,c1+1);c++)out.push('<div class="hdr" title="'+esc(cs[c])+'" style="left:'+(GUT+c*COLW)+'px;width:'+COLW+'px;top:'+top+'px">'+esc(cs[c])+'</div>');
 const every=Math.max(D.tstep,Math.ceil(48/rowH/D.tstep)*D.tstep);
 for(let r=Math.floor(r0/every)*every;r<=Math.min(r1,rows-1);r+=every){if(r<0)continue;
  out.push('<div class="gut" style="left:'+left+'px;top:'+(HEAD+r*rowH)+'px">op '+index(r)+'<br>'+secs(timeAt(r))+'</div>');}
 inner.innerHTML=out.join("");
}
let queued=false;
function schedule(){if(!queued){queued=true;requestAnimationFrame(()=>{queued=false;render();});}}
view.addEventListener("scroll",schedule);
window.addEventListener("resize",()=>{layout();schedule();});
sel.addEventListener("change",()=>{const mid=(view.scrollTop+view.clientHeight/2-HEAD)/rowH;rowH=+sel.value;layout();view.scrollTop=mid*rowH+HEAD-view.clientHeight/2;schedule();});
document.getElementById("threads").addEventListener("change",e=>{useThreads=e.target.checked;layout();schedule();});
document.getElementById("filter").addEventListener("input",e=>{filter=e.target.value.trim().toLowerCase();schedule();});
function describe(o){
 const f=fname(o),typ=TYPES[o[3]],lines=[];
 const inv=index(o[1]),comp=o[2]<0?"":" → "+index(o[2]);
 lines.push("op "+inv+comp+" · process "+D.cols[o[0]]+" · "+f+(o[5]?" · key "+o[5]:""));
 lines.push("invoke  "+o[6]+"   at "+secs(o[9]));
 if(o[3]===3)lines.push("never completed");
 else lines.push(typ.padEnd(7)+" "+o[7]+"   after "+dur(o[10]));
 if(o[8])lines.push("error   "+o[8]);
 if([o[5],o[6],o[7],o[8]].some(v=>v.endsWith("…")))lines.push("(values cut here; history.jsonl has them whole)");
 return lines.join("\n");
}
inner.addEventListener("mousemove",e=>{const t=e.target.closest?e.target.closest(".op"):null;
 if(!t){tip.style.display="none";return;}
 tip.textContent=describe(ops[+t.dataset.k]);tip.style.display="block";
 const x=Math.min(e.clientX+14,window.innerWidth-tip.offsetWidth-8),y=Math.min(e.clientY+14,window.innerHeight-tip.offsetHeight-8);
 tip.style.left=Math.max(0,x)+"px";tip.style.top=Math.max(0,y)+"px";});
inner.addEventListener("mouseleave",()=>{tip.style.display="none";});
inner.addEventListener("click",e=>{const t=e.target.closest?e.target.closest(".op"):null;if(!t)return;hl=+t.dataset.k;const q=new URLSearchParams(location.hash.slice(1));q.set("op",String(index(ops[hl][1])));history.replaceState(null,"","#"+q.toString());schedule();});
function goTo(ix){const p=posOfIndex(ix);if(p<0||p>=rows)return false;
 let best=-1;for(let k=lower(p-LONG);k<ops.length&&ops[k][1]<=p;k++){if(endRow(ops[k])>=p&&(ops[k][1]===p||ops[k][2]===p)){best=k;break;}}
 hl=best;view.scrollTop=HEAD+p*rowH-view.clientHeight/3;
 if(best>=0){const c=colOf(ops[best][0]);view.scrollLeft=Math.max(0,GUT+c*COLW-view.clientWidth/2);}
 schedule();return true;}
document.getElementById("goto").addEventListener("keydown",e=>{if(e.key==="Enter"){const v=parseInt(e.target.value,10);if(!isNaN(v))goTo(v);}});
function fromHash(){const q=new URLSearchParams(location.hash.slice(1));
 if(q.has("key")){filter="key="+q.get("key").toLowerCase();document.getElementById("filter").value="key="+q.get("key");}
 const ix=parseInt(q.get("op"),10);if(!isNaN(ix))goTo(ix);else schedule();}
window.addEventListener("hashchange",fromHash);
layout();render();fromHash();
})();
</script>
</body>
</html>
`
