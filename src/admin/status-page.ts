/**
 * The admin listener's `/` page: one self-contained HTML document (inline CSS, inline script, inline SVG
 * charts; no build step, no external assets). It polls `/stats` once a second and redraws: request rate
 * and p50/p99 latency charts (last 2 minutes, sampled server-side), pools, destinations with health and
 * latency, hit rate by prefix, hot keys and recent config events.
 */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mcrelay status</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:10px 18px;display:flex;gap:24px;align-items:baseline}
header h1{font-size:18px;margin:0}header span{opacity:.8}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(400px,1fr));gap:14px;padding:14px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:10px 12px}
h2{font-size:14px;margin:0 0 8px}table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:3px 6px;border-bottom:1px solid #eef0f3;font-variant-numeric:tabular-nums}
th{font-weight:600;color:#555}.up{color:#1a7f37}.tko{color:#c62828;font-weight:600}.new{color:#777}
.bar{background:#e3e8ef;height:8px;border-radius:4px;overflow:hidden;min-width:60px}.bar i{display:block;height:8px;background:#2f81f7}
svg{width:100%;height:120px;background:#fbfcfd;border:1px solid #eef0f3}.legend{font-size:11px;color:#555}
.err{color:#c62828}.ok{color:#1a7f37}code{font-size:12px}
</style></head><body>
<header><h1>mcrelay</h1><span id="version">loading…</span><span id="uptime"></span><span id="config"></span></header>
<main>
<section><h2>Traffic (requests/s)</h2><svg id="chart-traffic" viewBox="0 0 400 120" preserveAspectRatio="none"></svg>
<div class="legend"><b style="color:#2f81f7">■</b> requests <b style="color:#1a7f37">■</b> hits <b style="color:#c62828">■</b> errors — <span id="rps"></span></div></section>
<section><h2>Latency (µs, per second)</h2><svg id="chart-latency" viewBox="0 0 400 120" preserveAspectRatio="none"></svg>
<div class="legend"><b style="color:#8250df">■</b> p99 <b style="color:#2f81f7">■</b> p50 — <span id="lat"></span></div></section>
<section><h2>Destinations</h2><table id="destinations"><thead><tr><th>destination</th><th>pool</th><th>state</th><th>avg µs</th><th>p99 µs</th><th>in flight</th><th>sent</th><th>errors</th></tr></thead><tbody></tbody></table></section>
<section><h2>Pools</h2><table id="pools"><thead><tr><th>pool</th><th>servers</th></tr></thead><tbody></tbody></table>
<h2 style="margin-top:12px">Operations</h2><table id="ops"><thead><tr><th>op</th><th>count</th><th>p50</th><th>p99</th><th>p999 µs</th></tr></thead><tbody></tbody></table></section>
<section><h2>Hit rate by prefix</h2><table id="prefixes"><thead><tr><th>prefix</th><th>requests</th><th>hit rate</th><th></th></tr></thead><tbody></tbody></table></section>
<section><h2>Hot keys</h2><table id="hotkeys"><thead><tr><th>key</th><th>count</th><th>share</th></tr></thead><tbody></tbody></table></section>
<section><h2>Config events</h2><table id="events"><thead><tr><th>time</th><th>generation</th><th>result</th></tr></thead><tbody></tbody></table></section>
</main>
<script>
"use strict";
function esc(s){return String(s).replace(/[&<>"']/g,function(c){return {"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c];});}
function rows(id,list,fn,empty){var tb=document.querySelector("#"+id+" tbody");tb.innerHTML=list&&list.length?list.map(fn).join(""):"<tr><td colspan=9>"+empty+"</td></tr>";}
function line(svg,series,colors){var w=400,h=120,max=1;series.forEach(function(s){s.forEach(function(v){if(v>max)max=v;});});
var out="";series.forEach(function(s,i){if(s.length<1)return;var step=s.length>1?w/(s.length-1):w;
var pts=s.map(function(v,j){return (j*step).toFixed(1)+","+(h-4-(v/max)*(h-14)).toFixed(1);}).join(" ");
out+='<polyline fill="none" stroke-width="1.5" stroke="'+colors[i]+'" points="'+pts+'"/>';});
out+='<text x="4" y="11" font-size="10" fill="#555">max '+Math.round(max)+'</text>';document.getElementById(svg).innerHTML=out;}
function render(d){
document.getElementById("version").textContent=d.version+" (pid "+d.pid+")";
document.getElementById("uptime").textContent="up "+d.uptime+" s, "+d.clients.connections+" clients";
document.getElementById("config").textContent="config gen "+d.config.generation+" md5 "+d.config.md5.slice(0,8)+", age "+d.config.age+" s";
var hs=d.history||[];line("chart-traffic",[hs.map(function(x){return x.requests;}),hs.map(function(x){return x.hits;}),hs.map(function(x){return x.errors;})],["#2f81f7","#1a7f37","#c62828"]);
line("chart-latency",[hs.map(function(x){return x.p99Us;}),hs.map(function(x){return x.p50Us;})],["#8250df","#2f81f7"]);
var last=hs.length?hs[hs.length-1]:null;document.getElementById("rps").textContent=last?last.requests+" req/s now":"";
document.getElementById("lat").textContent=last?"p50 "+last.p50Us+" µs, p99 "+last.p99Us+" µs":"";
rows("destinations",d.destinations,function(x){var cls=x.tko?"tko":(x.state==="up"?"up":"new");return "<tr><td><code>"+esc(x.address)+"</code></td><td>"+esc(x.pool)+"</td><td class="+cls+">"+esc(x.state)+"</td><td>"+x.avg_latency_us+"</td><td>"+x.p99_latency_us+"</td><td>"+x.inflight+"</td><td>"+x.sent+"</td><td>"+(x.errors+x.timeouts)+"</td></tr>";},"no destinations");
rows("pools",Object.keys(d.pools).map(function(k){return [k,d.pools[k]];}),function(p){return "<tr><td>"+esc(p[0])+"</td><td><code>"+p[1].map(esc).join(" ")+"</code></td></tr>";},"no pools");
rows("ops",Object.keys(d.ops).map(function(k){return [k,d.ops[k]];}),function(o){return "<tr><td>"+esc(o[0])+"</td><td>"+o[1].count+"</td><td>"+o[1].p50_us+"</td><td>"+o[1].p99_us+"</td><td>"+o[1].p999_us+"</td></tr>";},"no requests yet");
rows("prefixes",d.prefixes===null?[]:d.prefixes.filter(function(p){return p.requests>0;}),function(p){var r=p.hit_rate===null?null:Math.round(p.hit_rate*100);return "<tr><td><code>"+esc(p.prefix)+"</code></td><td>"+p.requests+"</td><td>"+(r===null?"–":r+"%")+"</td><td><div class=bar><i style='width:"+(r||0)+"%'></i></div></td></tr>";},d.prefixes===null?"prefix stats off (--no-prefix-stats)":"no traffic yet");
rows("hotkeys",d.hot_keys===null?[]:d.hot_keys.overall,function(k){return "<tr><td><code>"+esc(k.key)+"</code></td><td>"+k.count+"</td><td>"+(k.share*100).toFixed(1)+"%</td></tr>";},d.hot_keys===null?"hot keys off (--no-hot-keys)":"none yet");
rows("events",d.config.events.slice().reverse(),function(e){return "<tr><td>"+new Date(e.at).toISOString().slice(11,19)+"</td><td>"+e.generation+"</td><td class="+(e.ok?"ok":"err")+">"+(e.ok?"loaded md5 "+esc((e.md5||"").slice(0,8)):"failed at "+esc(e.path||"")+": "+esc(e.error))+"</td></tr>";},"none");
}
function tick(){fetch("/stats").then(function(r){return r.json();}).then(render).catch(function(e){document.getElementById("version").textContent="disconnected: "+e;});}
tick();setInterval(tick,1000);
</script></body></html>
`;
