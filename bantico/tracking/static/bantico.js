/*! Bantico loader: <script>window.BANTICO_TOKEN="TOKEN"</script><script src="https://BANTICO/bantico.js"></script>
 * (or data-token="TOKEN"). Calls made before it loads, e.g. bantico("track",name,props), queue in:
 * window.bantico=window.bantico||function(){(window.bantico.q=window.bantico.q||[]).push(arguments)}
 * API: bantico.track(name,props) .identify({id,email,name}) .context() .reset()
 * First-party cookies: bnt_v visitor, bnt_s session, bnt_c link context. */
(function(w,d,n){
var old=w.bantico,s=d.currentScript||d.querySelector('script[src*="bantico.js"]');
if(!s||old&&old.v)return;
var T=w.BANTICO_TOKEN||s.dataset.token,
  base=new URL('.',s.src).href.slice(0,-1),
  K=['linkId','campaignId','source','medium','content','leadId'],
  cfg={pricingPath:'/pricing',honourGpc:1,windowDays:30},
  H=history,R=H.replaceState,Q=[],L=Promise.resolve(),ready,off,last,prev=d.referrer,
  api=(m,...a)=>api[m]&&api[m](...a),
  get=k=>(k=d.cookie.match('(^|; )'+k+'=([^;]*)'))&&decodeURIComponent(k[2]),
  set=(k,v,t)=>d.cookie=k+'='+encodeURIComponent(v)+';Max-Age='+t+';path=/;SameSite=Lax'+(location.protocol=='https:'?';Secure':''),
  clear=()=>['bnt_v','bnt_s','bnt_c'].forEach(k=>set(k,'',0)),
  rid=()=>Array.from(crypto.getRandomValues(new Uint8Array(20)),b=>(b%36).toString(36)).join(''),
  // each event re-sets ids: visitor 400 days, session 30 idle min
  ids=(v=get('bnt_v')||rid(),i=get('bnt_s')||rid())=>(set('bnt_v',v,3456e4),set('bnt_s',i,1800),[v,i]),
  ctx=(o={},c)=>{try{c=JSON.parse(get('bnt_c'))}catch(e){}K.forEach(k=>o[k]=c&&c[k]||null);return o},
  run=f=>off||(ready?f():Q.push(f)),
  send=(o,i=ids(),u=base+'/api/collect')=>{
    Object.assign(o,{token:T,visitorId:i[0],sessionId:i[1],context:ctx()});
    o=JSON.stringify(o);
    return w.fetch?fetch(u,{method:'POST',keepalive:true,body:o,headers:{'Content-Type':'text/plain'}})
      .then(r=>r.json()).then(j=>(j=j.context)&&set('bnt_c',JSON.stringify(j),cfg.windowDays*864e2)):n.sendBeacon(u,o)
  },
  // wait for a landing in flight: its answer has the link context
  go=(o,land)=>run(()=>{var p=L.then(()=>send(o)).catch(()=>{});if(land)L=p}),
  cut=p=>p.replace(/\/+$/,''),
  pv=()=>{
    var u=new URL(location.href),p=u.searchParams,c=p.get('bantico_click'),l=p.get('bantico_link'),m={},h,t,o;
    if(c!=null||l!=null){
      p.delete('bantico_click');p.delete('bantico_link');R.call(H,H.state,'',u.href)
    }
    h=u.href.split('#')[0];
    if(h==last)return;
    last=h;
    for(t of['source','medium','campaign','content','term'])if(p.get('utm_'+t))m[t]=p.get('utm_'+t);
    o={name:'page_view',url:u.href,referrer:prev};
    if(t=Object.keys(m).length)o.utm=m;
    if(c)o.clickId=c;
    if(l)o.linkId=l;
    prev=u.href;
    go(o,c||l||t);
    run(()=>cut(u.pathname)==cut(cfg.pricingPath)&&go({name:'pricing_view',url:u.href}))
  },
  nav=()=>{try{pv()}catch(e){}};
api.v=1;
api.track=(name,props)=>go({name,props,url:location.href});
api.identify=user=>go({name:'identify',user,url:location.href});
api.context=(c=ctx(),i=ready&&!off?ids():[get('bnt_v'),get('bnt_s')])=>Object.assign(c,{visitorId:i[0],sessionId:i[1]});
api.reset=()=>{clear();ready&&!off&&ids()};
w.bantico=api;
for(let k of['pushState','replaceState']){let f=H[k];H[k]=function(){var r=f.apply(this,arguments);nav();return r}}
addEventListener('popstate',nav);
nav();
(old&&old.q||[]).forEach(a=>api(...a));
L.then(()=>fetch(base+'/api/config?token='+encodeURIComponent(T))).then(r=>r.ok?r.json():r.status!=401&&{}).catch(()=>({})).then(j=>{
  ready=1;
  Object.assign(cfg,j);
  if(!j)console.warn('bantico: unknown token '+T);
  // GPC (if honoured) or unknown token: no cookies, no events
  (off=!j||cfg.honourGpc&&n.globalPrivacyControl===true)?clear():Q.forEach(f=>f());
  Q=0
})
})(window,document,navigator);
