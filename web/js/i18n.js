// Language: the Chinese and English strings, status and category labels. Chinese is the default; the choice is
// kept in localStorage (gridmap.lang).
import { esc } from './dom.js';

export const T = {
  zh: {
    title: '网格调度台', dispatch: '调度', gis: '边界导入', offline: '离线', online: '实时', apiKey: '密钥', askKey: '此服务器需要 API 密钥（gridmap keys create）：', queue: '事件队列', new: '新建事件',
    pick: '在地图上点击事件位置', category: '类别', priority: '优先级', description: '描述', submit: '提交', cancel: '取消',
    gridCode: '网格编码', layers: '图层', upload: '上传边界文件', drop: '拖放文件到此处或点击选择 (zip, shp, GeoJSON, KML, GPKG)',
    layer: '图层', codeField: '编码字段', nameField: '名称字段', parentField: '上级编码字段', parentFrom: '无上级字段时', parentFromField: '按上级编码字段', parentFromLocation: '按位置（所在上级）', parentFromPrefix: '按编码前缀', manyOf: '{n} / {of} 个要素', check: '校验', stage: '导入为新版本',
    generations: '边界版本', rollback: '回滚', status: '状态', what: '内容', allStatus: '全部状态', openStatus: '未办结',
    allCategory: '全部类别', street: '街道', community: '社区', grid: '网格', workers: '网格员', openItems: '未办结事件',
    none: '无', outside: '不在任何网格内', recommend: '推荐处置力量', assign: '指派', history: '处置记录', location: '位置',
    reported: '上报时间', distance: '距离', byRoad: '沿路', eta: '预计到达', sameGrid: '本网格', move: '变更状态', activate: '启用',
    valid: '校验通过', invalid: '校验未通过', errors: '错误', warnings: '警告', features: '要素', staged: '已导入为版本',
    active: '使用中', retired: '已停用', stagedS: '待启用', generation: '版本', noCandidates: '附近没有可用的处置力量',
    streets: '街道', communities: '社区', grids: '网格', incidents: '事件', hazards: '安全隐患', resources: '应急设施', responders: '处置力量', heatmap: '热力图',
    assigned: '已指派', fields: '文件字段', locate: '定位', replace: '改派', additional: '增派', release: '释放',
    onIt: '处置人员', why: '推荐理由', fix: '定位于', ago: '秒前',
    analysis: '专题分析', period: '时间范围', choropleth: '网格专题图', off: '关闭', patrols: '巡查轨迹', days: '天', allTime: '全部',
    perKm2: '事件密度 (每平方公里)', openCount: '未办结事件数', patrolCoverage: '巡查覆盖率', reachMinutes: '最近可派单元到达分钟', coverage: '巡查覆盖', cells: '个单元',
    showUnvisited: '显示未巡查区域', hideUnvisited: '隐藏未巡查区域',
    discard: '放弃', basemap: '底图', suggested: '已按文件字段填写', changes: '与当前版本相比', added: '新增', removed: '删除', renamed: '改名', reparented: '变更上级', reshaped: '边界变化', unchanged: '未变',
  },
  en: {
    title: 'Grid dispatch console', dispatch: 'Dispatch', gis: 'Boundaries', offline: 'offline', online: 'live', apiKey: 'Key', askKey: 'This server needs an API key (gridmap keys create):', queue: 'Incidents',
    new: 'New incident', pick: 'Click the map where it happened', category: 'Category', priority: 'Priority',
    description: 'Description', submit: 'Submit', cancel: 'Cancel', gridCode: 'grid code', layers: 'Layers',
    upload: 'Upload a boundary file', drop: 'Drop a file here or click to choose (zip, shp, GeoJSON, KML, GPKG)', layer: 'Layer',
    codeField: 'Code field', nameField: 'Name field', parentField: 'Parent field', parentFrom: 'Without a parent field', parentFromField: 'Use the parent field', parentFromLocation: 'By location (the parent holding it)', parentFromPrefix: 'By code prefix', manyOf: '{n} of {of} features', check: 'Validate', stage: 'Import as new generation',
    generations: 'Generations', rollback: 'Roll back', status: 'Status', what: 'What', allStatus: 'all states', openStatus: 'open',
    allCategory: 'all categories', street: 'Street', community: 'Community', grid: 'Grid', workers: 'Grid workers',
    openItems: 'Open incidents', none: 'none', outside: 'outside every grid', recommend: 'Recommend responders', assign: 'Assign',
    history: 'History', location: 'Location', reported: 'Reported', distance: 'Distance', byRoad: 'by road', eta: 'ETA', sameGrid: 'same grid',
    move: 'Change status', activate: 'Activate', valid: 'Valid', invalid: 'Rejected', errors: 'Errors', warnings: 'Warnings',
    features: 'features', staged: 'Staged as generation', active: 'active', retired: 'retired', stagedS: 'staged',
    generation: 'generation', noCandidates: 'No available responder nearby', streets: 'Streets', communities: 'Communities',
    grids: 'Grids', incidents: 'Incidents', hazards: 'Hazards', resources: 'Fixed resources', responders: 'Responders', heatmap: 'Heatmap', assigned: 'Assigned', fields: 'File fields',
    locate: 'show', replace: 'Reassign', additional: 'Send also', release: 'Release', onIt: 'Assigned', why: 'Why', fix: 'fix', ago: 's ago',
    analysis: 'Analysis', period: 'Period', choropleth: 'Grid choropleth', off: 'off', patrols: 'Patrols', days: 'days', allTime: 'all time',
    perKm2: 'Incidents per km²', openCount: 'Open incidents', patrolCoverage: 'Patrol coverage', reachMinutes: 'Minutes to the nearest available unit', coverage: 'Patrol coverage', cells: 'cells',
    showUnvisited: 'Show unpatrolled cells', hideUnvisited: 'Hide unpatrolled cells',
    discard: 'Discard', basemap: 'Base map', suggested: 'Filled in from the file\'s fields', changes: 'Against the current generation', added: 'added', removed: 'removed', renamed: 'renamed', reparented: 'new parent', reshaped: 'reshaped', unchanged: 'unchanged',
  },
};
// Strings of the dispatcher features added with issue 34 (kept apart from the first set above for easier review).
Object.assign(T.zh, {
  docTitle: 'gridmap 网格调度台', openAccess: '开放访问', openAccessTip: '此服务器未启用访问控制：无需密钥', keySetTip: '已保存密钥；点击更换',
  sound: '提示音', soundOn: '提示音：开', soundOff: '提示音：关', newAlert: '新警情', help: '快捷键', close: '关闭',
  search: '搜索网格、社区、街道或坐标', searchGcj: 'GCJ-02', searchGcjTip: '坐标为 GCJ-02（高德、腾讯地图）', noMatch: '没有匹配项', badCoords: '坐标超出范围',
  skip: '跳到事件队列', total: '共 {n} 条', totalMore: '已载入 {n} 条（还有更多）', sortTime: '按上报时间', sortPriority: '按优先级', sort: '排序',
  more: '下一页', prev: '上一页', page: '第 {a}–{b} 条', gridFilter: '网格编码或名称', address: '地址', caller: '报警人',
  callerNote: '报警人', pickedGrid: '所在网格', outsideAll: '不在任何网格内（服务器将拒绝）', units: '处置力量', unitsCount: '{n} 个', satisfaction: '回访满意度', dueAt: '办理时限', overdue: '超时', ratingComment: '回访意见（可选）', saveRating: '保存', rated: '{rating}/5 · {by} · {at}', ratingSaved: '已记录', unitsCountCut: '{n} 个（列出前 {k} 个，请筛选）',
  allKinds: '全部类型', allUnitStatus: '全部状态', unitFilter: '姓名、网格或事件', sortName: '按姓名', sortStatus: '按状态', sortAge: '按定位时间', sortKind: '按类型',
  kind: '类型', position: '定位', incident: '事件', noPosition: '无定位', minAgo: '分钟前', secAgo: '秒前', hourAgo: '小时前', dayAgo: '天前',
  unit: '处置单位', flyTo: '定位到地图', noStatus: '已办结，无可变更状态', staleWhy: '{n} 个{skill}可调派单位的位置已超过 {m} 分钟未更新', withSkill: '具备“{skill}”技能的', noSkillWhy: '没有具备“{skill}”技能的可调派单位',
  busyWhy: '{n} 个单位正在执行任务或离岗', allStale: '附近的处置力量定位均已过期', anySkill: '',
  legend: '图例', cluster: '聚合（点击放大）', selectedInc: '当前事件', candidate: '推荐单位', problem: '边界问题',
  shortcuts: '快捷键', kNew: '新建事件', kNext: '队列下一条', kPrev: '队列上一条', kRec: '推荐处置力量', kAssign: '指派第一推荐单位', kEsc: '取消 / 关闭', kSearch: '搜索', kHelp: '显示快捷键',
  diffList: '变更明细', codeCol: '编码', oldCol: '原', newCol: '新', moved: '中心偏移', areaChange: '面积变化', previewOn: '地图上预览文件中的边界（{n} 个）',
  previewNone: '文件中没有可预览的边界；地图上标出报告中有位置的问题', moreRows: '还有 {n} 条', nameOf: '名称',
  refused: '被拒绝', releasedN: '已释放', fGeometry: '几何', fCode: '编码', fName: '名称', fParent: '上级编码',
  liveTip: '实时事件推送', mapLabel: '地图', searchGo: '搜索', searchHint: '例：32010400600507、大光路、118.79,32.02',
});
Object.assign(T.en, {
  docTitle: 'gridmap grid dispatch console', openAccess: 'open access', openAccessTip: 'Access control is off on this server: no key needed', keySetTip: 'A key is stored; click to change it',
  sound: 'Sound', soundOn: 'Sound: on', soundOff: 'Sound: off', newAlert: 'New alert', help: 'Shortcuts', close: 'Close',
  search: 'Search grid, community, street or lon,lat', searchGcj: 'GCJ-02', searchGcjTip: 'Coordinates are GCJ-02 (Amap, Tencent)', noMatch: 'No match', badCoords: 'Coordinates out of range',
  skip: 'Skip to the incident queue', total: '{n} in all', totalMore: '{n} loaded (more exist)', sortTime: 'by report time', sortPriority: 'by priority', sort: 'Sort',
  more: 'Next page', prev: 'Previous page', page: '{a}–{b}', gridFilter: 'grid code or name', address: 'Address', caller: 'Caller',
  callerNote: 'Caller', pickedGrid: 'Grid', outsideAll: 'outside every grid (the server will refuse it)', units: 'Units', unitsCount: '{n}', satisfaction: 'Satisfaction', dueAt: 'Due', overdue: 'overdue', ratingComment: 'Reporter\'s comment (optional)', saveRating: 'Save', rated: '{rating}/5 · {by} · {at}', ratingSaved: 'recorded', unitsCountCut: '{n} (first {k} listed; filter to narrow)',
  allKinds: 'all kinds', allUnitStatus: 'all states', unitFilter: 'name, grid or incident', sortName: 'by name', sortStatus: 'by status', sortAge: 'by fix age', sortKind: 'by kind',
  kind: 'Kind', position: 'Fix', incident: 'Incident', noPosition: 'no fix', minAgo: 'min ago', secAgo: 's ago', hourAgo: 'h ago', dayAgo: 'd ago',
  unit: 'Unit', flyTo: 'Show on the map', noStatus: 'Finished: no further status', staleWhy: '{n} available units{skill} have positions older than {m} min', withSkill: ' with skill “{skill}”', noSkillWhy: 'No available unit has the skill “{skill}”',
  busyWhy: '{n} units are busy or off duty', allStale: 'Every unit nearby has a stale position', anySkill: '',
  legend: 'Legend', cluster: 'cluster (click to zoom in)', selectedInc: 'open incident', candidate: 'recommended unit', problem: 'boundary problem',
  shortcuts: 'Keyboard shortcuts', kNew: 'New incident', kNext: 'Next in the queue', kPrev: 'Previous in the queue', kRec: 'Recommend responders', kAssign: 'Assign the first candidate', kEsc: 'Cancel / close', kSearch: 'Search', kHelp: 'Show shortcuts',
  diffList: 'Changes', codeCol: 'Code', oldCol: 'Old', newCol: 'New', moved: 'centre moved', areaChange: 'area', previewOn: 'The file\'s {n} boundaries previewed on the map',
  previewNone: 'Nothing in the file to preview; the map marks the report\'s located problems', moreRows: '{n} more', nameOf: 'Name',
  refused: 'refused', releasedN: 'released', fGeometry: 'geometry', fCode: 'code', fName: 'name', fParent: 'parent code',
  liveTip: 'live event feed', mapLabel: 'map', searchGo: 'Search', searchHint: 'e.g. 32010400600507, 大光路, 118.79,32.02',
});
// Strings of issue 29: departments on the incident card (分拨, 受理, 退回, 转办) and the 考核 page.
Object.assign(T.zh, {
  department: '责任部门', dept_none: '未分拨', dept_routed: '已分拨', dept_accepted: '已受理', dept_returned: '已退回',
  returnedTimes: '已退回 {n} 次', route: '分拨', transfer: '转办', accept: '受理', returnStep: '退回', reasonHint: '退回或转办原因', reason: '原因',
  step_routed: '分拨', step_accepted: '受理', step_returned: '退回', step_transferred: '转办', step_imported: '导入',
  assessment: '考核', periodFrom: '起', periodTo: '止', periodFromDay: '起始日期', periodToDay: '截止日期（含）', level: '层级', mapColumn: '地图指标', download: '下载',
  preset_month: '本月', preset_lastMonth: '上月', preset_last30: '近30天', preset_custom: '自定义',
  level_street: '街道', level_community: '社区', level_grid: '网格', level_department: '部门', level_responder: '人员',
  as_code: '编码', as_name: '名称', as_reported: '上报', as_closed: '办结', as_open: '未办结', as_overdue: '超时', as_on_time_rate: '按时办结率',
  as_median_close_s: '办结用时（中位）', as_p90_close_s: '办结用时（P90）', as_returned: '退回', as_satisfaction_mean: '满意度', as_satisfaction_n: '回访数',
  as_patrol_coverage: '巡查覆盖率', as_per_km2: '每平方公里事件', noRows: '该时段没有数据', noData: '无数据', loading: '加载中…', badPeriod: '请选择起止日期（起不晚于止）',
});
Object.assign(T.en, {
  department: 'Department', dept_none: 'not routed', dept_routed: 'routed', dept_accepted: 'accepted', dept_returned: 'returned',
  returnedTimes: 'returned {n}×', route: 'Route', transfer: 'Transfer', accept: 'Accept', returnStep: 'Return', reasonHint: 'Reason to return or transfer', reason: 'reason',
  step_routed: 'routed', step_accepted: 'accepted', step_returned: 'returned', step_transferred: 'transferred', step_imported: 'imported',
  assessment: 'Assessment', periodFrom: 'From', periodTo: 'To', periodFromDay: 'First day', periodToDay: 'Last day (included)', level: 'Level', mapColumn: 'On the map', download: 'Download',
  preset_month: 'This month', preset_lastMonth: 'Last month', preset_last30: 'Last 30 days', preset_custom: 'Custom',
  level_street: 'Street', level_community: 'Community', level_grid: 'Grid', level_department: 'Department', level_responder: 'Responder',
  as_code: 'Code', as_name: 'Name', as_reported: 'Reported', as_closed: 'Closed', as_open: 'Open', as_overdue: 'Overdue', as_on_time_rate: 'On time',
  as_median_close_s: 'Time to close (median)', as_p90_close_s: 'Time to close (P90)', as_returned: 'Returned', as_satisfaction_mean: 'Satisfaction', as_satisfaction_n: 'Ratings',
  as_patrol_coverage: 'Patrol coverage', as_per_km2: 'Incidents per km²', noRows: 'No data for this period', noData: 'no data', loading: 'Loading…', badPeriod: 'Choose the first and last day (first not after last)',
});
// Strings of the department register editor on the 考核 page (issue 29: the register in the console).
Object.assign(T.zh, {
  departments: '部门名录', deptCode: '部门编码', deptName: '部门名称', deptCategories: '负责类别', newDept: '新增部门', newDeptBtn: '新增',
  editDept: '修改部门', saveDept: '保存', edit: '修改', removeDept: '删除', removeDeptAsk: '删除部门“{name}”（{code}）？',
  deptSaved: '已保存', deptRemoved: '已删除', noDepartments: '尚无部门', deptCodeRule: '部门编码须为 1–64 个字母、数字、_ 或 -',
});
Object.assign(T.en, {
  departments: 'Departments', deptCode: 'Code', deptName: 'Name', deptCategories: 'Categories', newDept: 'New department', newDeptBtn: 'New',
  editDept: 'Change department', saveDept: 'Save', edit: 'Edit', removeDept: 'Remove', removeDeptAsk: 'Remove the department “{name}” ({code})?',
  deptSaved: 'saved', deptRemoved: 'removed', noDepartments: 'No departments yet', deptCodeRule: 'A department code is 1–64 letters, digits, _ or -',
});
/** A label's colon: full-width in Chinese. */
export const colon = () => (lang === 'zh' ? '：' : ': ');
/** t() with {name} placeholders filled in. */
export const tf = (k, vars) => t(k).replace(/\{(\w+)\}/g, (_, v) => String(vars[v] ?? ''));

// Category labels: Chinese names come from GET /incident-categories; English from this map, else the code humanised.
const CATEGORY_EN = { fire: 'Fire', traffic: 'Traffic', public_order: 'Public order', dispute: 'Dispute', environment: 'Pollution',
  sanitation: 'Sanitation', infrastructure: 'Municipal facilities', flood: 'Flood', medical: 'Medical aid', safety_hazard: 'Safety hazard',
  illegal_construction: 'Illegal construction', other: 'Other' };
export const humanise = (code) => { const s = String(code ?? '').replace(/[_-]+/g, ' ').trim(); return s.charAt(0).toUpperCase() + s.slice(1); };

// Unit kinds (responder `kind`): person, e-bike, vehicle.
export const KINDS = ['grid_worker', 'enforcement', 'vehicle'];
const KIND_LABEL = { zh: { grid_worker: '网格员', enforcement: '城管执法（电动车）', vehicle: '车辆' },
  en: { grid_worker: 'grid worker', enforcement: 'enforcement (e-bike)', vehicle: 'vehicle' } };
export const kindLabel = (k) => KIND_LABEL[lang][k] || humanise(k);

// The incident lifecycle, as the server's 409 answers state it ("from X it can go to: …"; README, POST
// /incidents/{id}/status). A refusal naming other moves updates this table (see incident.js).
export const LIFECYCLE = {
  reported: ['dispatched', 'resolved', 'cancelled'],
  dispatched: ['on_scene', 'resolved', 'reported', 'cancelled'],
  on_scene: ['resolved', 'cancelled'],
  resolved: ['closed', 'on_scene'],
  closed: [],
  cancelled: [],
};
export const OPEN_STATES = ['reported', 'dispatched', 'on_scene'];
/** Still open past its deadline (now, not only as the server last said). */
export const isOverdue = (i) => OPEN_STATES.includes(i.status) && !!i.due_at && Date.parse(i.due_at) < Date.now();

export const STATUSES = ['reported', 'dispatched', 'on_scene', 'resolved', 'closed', 'cancelled'];
export const STATUS_ZH = { reported: '已上报', dispatched: '已派遣', on_scene: '已到场', resolved: '已处置', closed: '已办结', cancelled: '已取消',
  available: '可调派', busy: '执行中', off_duty: '离岗' };
const STATUS_EN = { on_scene: 'on scene', off_duty: 'off duty' };
export const OPEN = 'reported,dispatched,on_scene';
export const REASON = {
  zh: { preferred: '策略优先', distance: '距离', eta: '预计到达', skill: '技能匹配', team: '队伍', home_grid: '本网格网格员',
    same_grid: '在本网格内', same_community: '在本社区内', stale: '位置过旧', position_age: '位置时效' },
  en: { preferred: 'policy', distance: 'distance', eta: 'ETA', skill: 'skill', team: 'team', home_grid: 'own grid worker',
    same_grid: 'in the grid', same_community: 'in the community', stale: 'stale position', position_age: 'position age' },
};
// Tags worth a glance; the rest stay in the tooltip.
export const REASON_TAGS = ['preferred', 'home_grid', 'same_grid', 'same_community', 'stale'];
export let lang = localStorage.getItem('gridmap.lang') || 'zh';
export function setLang(l) { lang = l; localStorage.setItem('gridmap.lang', l); }
export let categories = [];
export function setCategories(c) { categories = c; }
export const t = (k) => T[lang][k] || k;
export const statusLabel = (s) => (lang === 'zh' ? STATUS_ZH[s] || s : STATUS_EN[s] || String(s).replace(/_/g, ' '));
export const badge = (s) => `<span class="badge s-${esc(s)}">${esc(statusLabel(s))}</span>`;
export const catLabel = (code) => {
  if (lang === 'zh') return categories.find((x) => x.code === code)?.name || code;
  return CATEGORY_EN[code] || humanise(code);
};
export const when = (iso) => (iso ? new Date(iso).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false }) : '');
/** How long ago an ISO time was, shortly ("3 分钟前", "3 min ago"). */
export function ago(iso, now = Date.now()) {
  if (!iso) return t('noPosition');
  const s = Math.max(0, (now - Date.parse(iso)) / 1000);
  const sp = lang === 'zh' ? '' : ' ';
  if (s < 60) return `${Math.round(s)}${sp}${t('secAgo')}`;
  if (s < 3600) return `${Math.round(s / 60)}${sp}${t('minAgo')}`;
  if (s < 86400) return `${Math.round(s / 3600)}${sp}${t('hourAgo')}`;
  return `${Math.round(s / 86400)}${sp}${t('dayAgo')}`;
}

// The server's refusals in the page's language, by error code (the server's English stays in the error's
// `serverMessage` and the tooltip). Codes not listed show the server's message.
const ERRORS_ZH = {
  invalid_transition: '不能从“{from}”变更为“{to}”；可变更为：{allowed}',
  responder_not_available: '该处置力量当前不可调派（执行中或下班），请另选或先解除',
  already_assigned: '该事件已有处置力量：改派请选“替换”，增派请选“增派”',
  already_on_incident: '该处置力量已在本事件上',
  not_assigned: '该处置力量未派到本事件',
  responder_on_incident: '该处置力量正在处置事件 #{incident_id}，先解除派遣才能改状态',
  outside_service_area: '位置不在服务范围内',
  unknown_category: '未知的事件类别',
  invalid_priority: '优先级须为 1（最紧急）到 5',
  field_too_long: '“{field}”过长',
  missing_field: '缺少“{field}”',
  outside_scope: '超出此密钥的管辖范围',
  unauthorized: '需要有效的 API 密钥',
  forbidden: '此密钥无权执行该操作',
  incident_not_found: '事件不存在',
  responder_not_found: '处置力量不存在',
  store_unavailable: '数据库暂不可用，请稍后重试',
  internal: '服务器内部错误',
  not_resolved: '事件处置完成后才能记录回访满意度',
  invalid_rating: '满意度须为 1 到 5',
  reason_required: '退回须填写原因',
  invalid_routing_step: '该事件当前为“{state}”，不能{step}',
  unknown_department: '部门“{department}”不在部门名录中',
  same_department: '事件已在该部门：转办请另选部门',
  incident_not_open: '已办结或已取消的事件不能分拨、受理、退回或转办',
  category_taken: '类别“{category}”已由部门 {department} 负责：一个类别只属于一个部门，请先从该部门去掉',
  invalid_department_code: '部门编码须为 1–64 个字母、数字、_ 或 -',
  invalid_department_name: '部门名称须为 1–200 个字符',
  department_in_use: '部门 {department} 仍有 {open} 件未办结事件：请先转办或退回',
  department_not_found: '部门 {department} 不在部门名录中',
};
/** The text of a refused request: the page's language when the code is known, else the server's message. */
export function errorText(code, details, serverMessage) {
  const zh = lang === 'zh' && ERRORS_ZH[code];
  if (!zh) return serverMessage;
  const vars = { ...(details || {}) };
  if (code === 'invalid_transition') {
    // "incident 1 cannot go from reported to closed; from reported it can go to: dispatched, resolved"
    const m = /from (\w+) to (\w+); from \w+ it can go to: ?([\w, ]*)$/.exec(serverMessage || '');
    if (!m) return serverMessage;
    Object.assign(vars, { from: statusLabel(m[1]), to: statusLabel(m[2]),
      allowed: m[3].split(',').map((x) => x.trim()).filter(Boolean).map(statusLabel).join('、') || '无' });
  }
  if (code === 'invalid_routing_step') {
    // "incident 1 is returned: it cannot be accepted"
    const m = /is (\w+): it cannot be (\w+)$/.exec(serverMessage || '');
    if (!m) return serverMessage;
    Object.assign(vars, { state: t(`dept_${m[1] === 'unrouted' ? 'none' : m[1]}`), step: t(`step_${m[2]}`) });
  }
  if (code === 'unknown_department') vars.department = /department "(.*)"/.exec(serverMessage || '')?.[1] ?? '';
  if (code === 'category_taken') {
    // 'category "flood" is already handled by department "sw": remove it there first'
    const m = /category "(.*)" is already handled by department "(.*)"/.exec(serverMessage || '');
    if (!m) return serverMessage;
    Object.assign(vars, { category: catLabel(m[1]), department: m[2] });
  }
  if (code === 'department_in_use') {
    // 'department "hb" still has 1 open incident(s): transfer or return them first'
    const m = /department "(.*)" still has (\d+) open/.exec(serverMessage || '');
    if (!m) return serverMessage;
    Object.assign(vars, { department: m[1], open: m[2] });
  }
  if (code === 'department_not_found') vars.department = /department "(.*)" is not/.exec(serverMessage || '')?.[1] ?? '';
  return zh.replace(/\{(\w+)\}/g, (_, v) => String(vars[v] ?? ''));
}
