// Language: the Chinese and English strings, status and category labels. Chinese is the default; the choice is
// kept in localStorage (gridmap.lang).
import { esc } from './dom.js';

export const T = {
  zh: {
    title: '网格调度台', dispatch: '调度', gis: '边界导入', offline: '离线', online: '实时', apiKey: '密钥', askKey: '此服务器需要 API 密钥（gridmap keys create）：', queue: '事件队列', new: '新建事件',
    pick: '在地图上点击事件位置', category: '类别', priority: '优先级', description: '描述', submit: '提交', cancel: '取消',
    gridCode: '网格编码', layers: '图层', upload: '上传边界文件', drop: '拖放文件到此处或点击选择 (zip, shp, GeoJSON, KML, GPKG)',
    layer: '图层', codeField: '编码字段', nameField: '名称字段', parentField: '上级编码字段', check: '校验', stage: '导入为新版本',
    generations: '边界版本', rollback: '回滚', status: '状态', what: '内容', allStatus: '全部状态', openStatus: '未办结',
    allCategory: '全部类别', street: '街道', community: '社区', grid: '网格', workers: '网格员', openItems: '未办结事件',
    none: '无', outside: '不在任何网格内', recommend: '推荐处置力量', assign: '指派', history: '处置记录', location: '位置',
    reported: '上报时间', distance: '距离', eta: '预计到达', sameGrid: '本网格', move: '变更状态', activate: '启用',
    valid: '校验通过', invalid: '校验未通过', errors: '错误', warnings: '警告', features: '要素', staged: '已导入为版本',
    active: '使用中', retired: '已停用', stagedS: '待启用', generation: '版本', noCandidates: '附近没有可用的处置力量',
    streets: '街道', communities: '社区', grids: '网格', incidents: '事件', hazards: '安全隐患', resources: '应急设施', responders: '处置力量', heatmap: '热力图',
    assigned: '已指派', fields: '文件字段', locate: '定位', replace: '改派', additional: '增派', release: '释放',
    onIt: '处置人员', why: '推荐理由', fix: '定位于', ago: '秒前',
    analysis: '专题分析', period: '时间范围', choropleth: '网格专题图', off: '关闭', patrols: '巡查轨迹', days: '天', allTime: '全部',
    perKm2: '事件密度 (每平方公里)', openCount: '未办结事件数', patrolCoverage: '巡查覆盖率', coverage: '巡查覆盖', cells: '个单元',
    showUnvisited: '显示未巡查区域', hideUnvisited: '隐藏未巡查区域',
    discard: '放弃', basemap: '底图', suggested: '已按文件字段填写', changes: '与当前版本相比', added: '新增', removed: '删除', renamed: '改名', reparented: '变更上级', reshaped: '边界变化', unchanged: '未变',
  },
  en: {
    title: 'Grid dispatch console', dispatch: 'Dispatch', gis: 'Boundaries', offline: 'offline', online: 'live', apiKey: 'Key', askKey: 'This server needs an API key (gridmap keys create):', queue: 'Incidents',
    new: 'New incident', pick: 'Click the map where it happened', category: 'Category', priority: 'Priority',
    description: 'Description', submit: 'Submit', cancel: 'Cancel', gridCode: 'grid code', layers: 'Layers',
    upload: 'Upload a boundary file', drop: 'Drop a file here or click to choose (zip, shp, GeoJSON, KML, GPKG)', layer: 'Layer',
    codeField: 'Code field', nameField: 'Name field', parentField: 'Parent field', check: 'Validate', stage: 'Import as new generation',
    generations: 'Generations', rollback: 'Roll back', status: 'Status', what: 'What', allStatus: 'all states', openStatus: 'open',
    allCategory: 'all categories', street: 'Street', community: 'Community', grid: 'Grid', workers: 'Grid workers',
    openItems: 'Open incidents', none: 'none', outside: 'outside every grid', recommend: 'Recommend responders', assign: 'Assign',
    history: 'History', location: 'Location', reported: 'Reported', distance: 'Distance', eta: 'ETA', sameGrid: 'same grid',
    move: 'Change status', activate: 'Activate', valid: 'Valid', invalid: 'Rejected', errors: 'Errors', warnings: 'Warnings',
    features: 'features', staged: 'Staged as generation', active: 'active', retired: 'retired', stagedS: 'staged',
    generation: 'generation', noCandidates: 'No available responder nearby', streets: 'Streets', communities: 'Communities',
    grids: 'Grids', incidents: 'Incidents', hazards: 'Hazards', resources: 'Fixed resources', responders: 'Responders', heatmap: 'Heatmap', assigned: 'Assigned', fields: 'File fields',
    locate: 'show', replace: 'Reassign', additional: 'Send also', release: 'Release', onIt: 'Assigned', why: 'Why', fix: 'fix', ago: 's ago',
    analysis: 'Analysis', period: 'Period', choropleth: 'Grid choropleth', off: 'off', patrols: 'Patrols', days: 'days', allTime: 'all time',
    perKm2: 'Incidents per km²', openCount: 'Open incidents', patrolCoverage: 'Patrol coverage', coverage: 'Patrol coverage', cells: 'cells',
    showUnvisited: 'Show unpatrolled cells', hideUnvisited: 'Hide unpatrolled cells',
    discard: 'Discard', basemap: 'Base map', suggested: 'Filled in from the file\'s fields', changes: 'Against the current generation', added: 'added', removed: 'removed', renamed: 'renamed', reparented: 'new parent', reshaped: 'reshaped', unchanged: 'unchanged',
  },
};
export const STATUSES = ['reported', 'dispatched', 'on_scene', 'resolved', 'closed', 'cancelled'];
export const STATUS_ZH = { reported: '已上报', dispatched: '已派遣', on_scene: '已到场', resolved: '已处置', closed: '已办结', cancelled: '已取消',
  available: '可调派', busy: '执行中', off_duty: '离岗' };
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
export const statusLabel = (s) => (lang === 'zh' ? STATUS_ZH[s] || s : s.replace('_', ' '));
export const badge = (s) => `<span class="badge s-${esc(s)}">${esc(statusLabel(s))}</span>`;
export const catLabel = (code) => { const c = categories.find((x) => x.code === code); return lang === 'zh' && c ? c.name : code; };
export const when = (iso) => (iso ? new Date(iso).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false }) : '');
