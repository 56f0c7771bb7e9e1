package demo

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Prose is how --scale writes text: the default demo's templates are few and
// short, so grown a hundredfold they repeat whole sentences and compress
// far better than real text, flattering every dedup, compression and
// throughput figure measured on them. At scale every sentence is instead
// composed from a large space — templates with alternatives written
// [a|b|c], slots filled from the vocabularies below, numbers (ages,
// durations, doses, readings) and optional lead-in and trailing clauses —
// so sentences rarely repeat and bytes compress about as real consultation
// text does. The facts stated are still the fact base's.

// expand writes tmpl with each [a|b|…] replaced by one alternative (which
// may itself hold slots and alternatives) and each {Key} by slot(key).
func (g *renderer) expand(tmpl string, slot func(key string) string) string {
	var b strings.Builder
	g.expandTo(&b, tmpl, slot)
	return b.String()
}

func (g *renderer) expandTo(b *strings.Builder, tmpl string, slot func(key string) string) {
	for len(tmpl) > 0 {
		i := strings.IndexAny(tmpl, "[{")
		if i < 0 {
			g.paraphrase(b, tmpl)
			return
		}
		g.paraphrase(b, tmpl[:i])
		if tmpl[i] == '{' {
			j := strings.IndexByte(tmpl[i:], '}')
			if j < 0 {
				b.WriteString(tmpl[i:])
				return
			}
			b.WriteString(slot(tmpl[i+1 : i+j]))
			tmpl = tmpl[i+j+1:]
			continue
		}
		// an alternation: split at top-level '|' up to the matching ']'
		depth, start := 0, i+1
		var alts []string
		end := -1
		for k := i + 1; k < len(tmpl) && end < 0; k++ {
			switch tmpl[k] {
			case '[':
				depth++
			case ']':
				if depth == 0 {
					alts = append(alts, tmpl[start:k])
					end = k
				}
				depth--
			case '|':
				if depth == 0 {
					alts = append(alts, tmpl[start:k])
					start = k + 1
				}
			}
		}
		if end < 0 {
			b.WriteString(tmpl[i:])
			return
		}
		g.expandTo(b, alts[g.r.IntN(len(alts))], slot)
		tmpl = tmpl[end+1:]
	}
}

// cnDigits are the numerals of cn.
var cnDigits = []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}

// cn writes 1–99 in Chinese numerals, as people write small counts ("两"
// for a lone 2).
func cn(n int) string {
	switch {
	case n <= 0 || n >= 100:
		return strconv.Itoa(n)
	case n == 2:
		return "两"
	case n <= 10:
		return cnDigits[n]
	}
	s := "十"
	if n >= 20 {
		s = cnDigits[n/10] + s
	}
	if n%10 != 0 {
		s += cnDigits[n%10]
	}
	return s
}

// count writes n as digits or in Chinese numerals, at random.
func (g *renderer) count(n int) string {
	if g.r.IntN(2) == 0 {
		return strconv.Itoa(n)
	}
	return cn(n)
}

// decimal writes lo + a random step of 0.1 up to hi, e.g. 38.6.
func (g *renderer) decimal(lo, hi float64) string {
	steps := int((hi-lo)*10 + 0.5)
	v := int(lo*10+0.5) + g.r.IntN(steps+1)
	return strconv.Itoa(v/10) + "." + strconv.Itoa(v%10)
}

// duration is how long something has lasted, in the many ways people say it.
func (g *renderer) duration() string {
	r := g.r
	switch r.IntN(9) {
	case 0:
		return g.count(2+r.IntN(12)) + "天"
	case 1:
		return g.count(1+r.IntN(6)) + pick(r, []string{"周", "个星期", "周左右", "个多星期"})
	case 2:
		return g.count(1+r.IntN(11)) + pick(r, []string{"个月", "个多月", "个月左右", "个来月"})
	case 3:
		return g.count(1+r.IntN(15)) + pick(r, []string{"年", "年多", "年左右", "年了"})
	case 4:
		return pick(r, []string{"大半年", "小半年", "半年多", "一年半", "两年半", "十来天", "半个多月", "小半个月", "好几年", "好几个月", "二十多天", "一个礼拜"})
	case 5:
		return pick(r, []string{"从去年冬天", "从今年开春", "从上个月中旬", "从国庆节", "从过完年", "从入夏", "从上周末", "从生完孩子", "从退休"}) + "到现在"
	case 6:
		return g.count(3+r.IntN(40)) + "天"
	case 7:
		return g.count(2+r.IntN(30)) + pick(r, []string{"个小时", "多小时", "小时左右"})
	default:
		return g.count(1+r.IntN(9)) + pick(r, []string{"个多月", "周多", "年半"})
	}
}

// reading is one measurement a patient quotes or a doctor asks about.
func (g *renderer) reading() string {
	r := g.r
	switch r.IntN(10) {
	case 0:
		return "体温" + g.decimal(37.2, 40.1) + pick(r, []string{"度", "℃", "摄氏度"})
	case 1:
		return "血压" + strconv.Itoa(100+r.IntN(85)) + "/" + strconv.Itoa(60+r.IntN(50)) + pick(r, []string{"", "mmHg", "毫米汞柱"})
	case 2:
		return "心率" + strconv.Itoa(52+r.IntN(75)) + pick(r, []string{"次/分", "次每分钟", "下", ""})
	case 3:
		return pick(r, []string{"空腹血糖", "餐后血糖", "随机血糖"}) + g.decimal(4.2, 16.9)
	case 4:
		return "体重" + strconv.Itoa(38+r.IntN(70)) + pick(r, []string{"公斤", "kg", "斤"})
	case 5:
		return pick(r, []string{"白细胞", "中性粒细胞", "淋巴细胞"}) + g.decimal(1.5, 18.9)
	case 6:
		return pick(r, []string{"尿酸", "肌酐", "谷丙转氨酶", "谷草转氨酶", "甘油三酯", "总胆固醇", "低密度脂蛋白"}) + pick(r, []string{"", "是", "查出来"}) +
			strconv.Itoa(r.IntN(9)+1) + g.decimal(0.1, 9.9)
	case 7:
		return pick(r, []string{"血红蛋白", "血小板"}) + strconv.Itoa(70+r.IntN(230))
	case 8:
		return "C反应蛋白" + g.decimal(0.5, 98.9)
	default:
		return pick(r, []string{"身高", "个子"}) + strconv.Itoa(148+r.IntN(42)) + pick(r, []string{"厘米", "cm", ""}) + "，体重" + strconv.Itoa(40+r.IntN(60)) + "公斤"
	}
}

// dose is how a drug is taken: amount, times a day, when and for how long.
func (g *renderer) dose(drug string) string {
	r := g.r
	amount := pick(r, []string{
		g.count(1+r.IntN(3)) + "片", g.count(1+r.IntN(2)) + "粒", g.count(1+r.IntN(3)) + "袋",
		strconv.Itoa([]int{5, 10, 20, 25, 50, 100, 125, 200, 250, 500}[r.IntN(10)]) + "mg",
		strconv.Itoa([]int{5, 10, 15, 20}[r.IntN(4)]) + "毫升", "半片",
	})
	return g.expand("{Drug}[每次|一次|]{Amt}，[每天|一天|每日]{Times}次，[饭后|饭前半小时|早饭后|睡前|空腹|随餐]服用[，先用{Days}天|，连续用{Days}天|，疗程{Weeks}周左右|，{Days}天后复诊|]",
		func(k string) string {
			switch k {
			case "Drug":
				return drug
			case "Amt":
				return amount
			case "Times":
				return g.count(1 + r.IntN(3))
			case "Days":
				return g.count(3 + r.IntN(12))
			default:
				return g.count(1 + r.IntN(8))
			}
		})
}

// Vocabularies of the scaled prose. Written for this project; each is a
// slot that a template names in braces.
var proseVocab = map[string][]string{
	"City": {"北京", "上海", "广州", "深圳", "成都", "重庆", "武汉", "西安", "南京", "杭州", "郑州", "长沙", "济南", "青岛",
		"沈阳", "哈尔滨", "长春", "石家庄", "太原", "合肥", "南昌", "福州", "厦门", "昆明", "贵阳", "南宁", "海口", "兰州",
		"银川", "西宁", "乌鲁木齐", "呼和浩特", "天津", "大连", "苏州", "无锡", "宁波", "温州", "徐州", "洛阳", "襄阳",
		"宜昌", "赣州", "泉州", "佛山", "东莞", "珠海", "绵阳", "遵义", "大理", "桂林", "柳州", "包头", "邯郸", "保定",
		"唐山", "烟台", "潍坊", "临沂", "南通", "扬州", "芜湖", "九江", "株洲", "岳阳", "常德", "衡阳", "湛江", "汕头"},
	"Hosp": {"人民医院", "第一人民医院", "第二人民医院", "中医院", "中心医院", "妇幼保健院", "儿童医院", "医科大学附属医院",
		"社区卫生服务中心", "县医院", "市立医院", "中西医结合医院", "骨科医院", "眼科医院", "口腔医院", "私立诊所", "镇卫生院"},
	"Job": {"程序员", "中学老师", "小学老师", "出租车司机", "货车司机", "会计", "厨师", "护士", "销售", "保安", "农民",
		"快递员", "外卖骑手", "大学生", "高三学生", "退休工人", "建筑工人", "餐厅服务员", "设计师", "公务员", "工厂流水线工人",
		"超市收银员", "银行职员", "健身教练", "电工", "装修工人", "个体户", "全职妈妈", "记者", "律师", "客服", "仓库管理员"},
	"Habit": {"抽烟十几年", "每天一包烟", "偶尔喝点酒", "特别爱吃辣", "经常熬夜", "一坐就是一整天", "每天要喝三四杯咖啡",
		"基本不运动", "经常在外面应酬", "吃饭不规律", "爱喝冰饮料", "晚上经常吃夜宵", "喜欢吃咸的", "平时压力很大",
		"每天对着电脑十来个小时", "经常倒夜班", "口味偏重", "喜欢喝浓茶", "很少喝水", "经常憋尿", "每天走路不到两千步",
		"睡前总玩手机", "爱吃甜食", "经常不吃早饭", "周末喜欢爬山", "每天早上跑步", "常年跑长途"},
	"Trigger": {"{Activity}以后", "{Activity}以后", "{Activity}回来", "受凉以后", "熬了几个通宵以后", "吃了一顿火锅以后", "喝完酒第二天", "出差回来以后", "搬完家累着了以后",
		"感冒好了以后", "跟人吵了一架以后", "换季的时候", "淋了一场雨以后", "连着加了一周班以后", "坐了一夜火车以后",
		"游完泳以后", "吃了些海鲜以后", "装修完新房搬进去以后", "开始减肥以后", "考试前那段时间", "打完球以后",
		"带孩子没睡好以后", "空调吹多了以后", "吃了剩饭剩菜以后", "旅游回来以后"},
	"When": {"早上起床", "上午", "中午饭后", "下午", "傍晚", "晚上", "半夜", "凌晨三四点", "饭后", "空腹的时候", "睡前",
		"起床以后", "运动以后", "久坐以后", "爬楼梯的时候", "洗完澡", "上班路上", "开会的时候", "躺下以后", "天一冷"},
	"Freq": {"偶尔", "经常", "时不时", "隔三差五", "一阵一阵地", "反反复复", "几乎天天", "一周两三次", "每天好几次",
		"断断续续", "越来越频繁地", "比以前更常"},
	"Worry": {"心里很担心", "有点害怕", "心里没底", "整晚睡不着", "特别焦虑", "不知道该怎么办", "家里人都很着急",
		"怕是什么大病", "上网查了越查越怕", "工作都没心思做", "想问问要不要紧", "不知道该挂哪个科"},
	"Tried": {"去{City}{Hosp}看过", "自己在药店买了点药吃", "吃了{N}天消炎药", "打了{N}天吊瓶", "看过中医喝了{N}副中药",
		"贴过膏药", "拔过火罐", "做过推拿", "喝了不少热水", "在诊所输过液", "去{City}{Hosp}做过检查",
		"吃过{N}盒{Otc}", "找村里的医生看过", "按朋友推荐吃了{Otc}"},
	"Effect": {"没什么效果", "好了几天又犯了", "效果不明显", "稍微好一点", "刚开始管用后来就不行了", "反而更厉害了",
		"说不上好坏", "停药就复发"},
	"Otc": {"布洛芬", "感冒灵颗粒", "板蓝根", "藿香正气水", "健胃消食片", "阿莫西林", "头孢", "维生素C", "复合维生素B",
		"云南白药", "风油精", "红霉素软膏", "牛黄解毒片", "连花清瘟胶囊", "蒲地蓝消炎片", "葡萄糖酸钙", "钙片", "鱼油"},
	"Kin": {"父亲", "母亲", "爷爷", "奶奶", "外公", "外婆", "舅舅", "姑姑", "哥哥", "姐姐", "叔叔", "姨妈"},
	"Food": {"小米粥", "燕麦片", "鸡蛋羹", "清蒸鱼", "豆腐", "西兰花", "菠菜", "冬瓜汤", "番茄", "苹果", "香蕉", "猕猴桃",
		"玉米", "红薯", "山药", "南瓜", "瘦肉粥", "牛奶", "酸奶", "全麦面包", "绿豆汤", "芹菜", "黄瓜", "胡萝卜", "白菜", "木耳"},
	"Bad": {"烧烤", "火锅", "麻辣烫", "炸鸡", "奶茶", "冰淇淋", "方便面", "腊肉", "咸鱼", "辣条", "可乐", "白酒", "啤酒",
		"浓咖啡", "肥肉", "蛋糕", "油条", "腌菜", "动物内脏", "螺蛳粉"},
	"Sport": {"快走", "慢跑", "游泳", "骑自行车", "打太极拳", "跳广场舞", "做瑜伽", "练八段锦", "爬楼梯", "打羽毛球", "跳绳"},
	"Red": {"胸口剧烈疼痛", "呼吸困难", "高烧不退", "意识不清", "大量出血", "剧烈呕吐", "说话不清楚", "一侧手脚没劲",
		"抽搐", "大便发黑", "晕倒", "嘴唇发紫", "尿量明显减少", "剧烈头痛"},
	"Cook": {"清蒸", "红烧", "凉拌", "爆炒", "清炖", "水煮", "香煎", "烤", "卤", "腌", "油炸", "白灼", "干煸", "糖醋", "麻辣", "蒜蓉", "酱爆", "粉蒸"},
	"Dish": {"鲈鱼", "排骨", "鸡翅", "牛腩", "羊肉", "豆腐", "茄子", "土豆", "虾", "螃蟹", "鸭血", "猪蹄", "五花肉", "鸡蛋", "青菜",
		"藕片", "木耳", "腰花", "肥肠", "鱿鱼", "带鱼", "花生", "蘑菇", "冬瓜", "苦瓜", "豆芽"},
	"Area": {"郊区", "老城区", "开发区", "县城", "乡下", "市中心", "城南", "城北", "东区", "西区", "高新区", "新区", "下面的镇上", "工业园"},
	"Surname": {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗",
		"郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡",
		"余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金",
		"石", "廖", "贾", "夏", "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "闫", "段", "雷", "侯"},
	"Given": {"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞", "平",
		"刚", "桂", "英", "华", "玉", "萍", "红", "建", "文", "辉", "力", "鹏", "飞", "斌", "宇", "浩", "凯", "健", "俊", "帆",
		"旭", "宁", "龙", "林", "欣", "颖", "婷", "雪", "琳", "晨", "阳", "佳", "怡", "思", "梦", "雨", "晓", "蕾", "峰", "波",
		"鑫", "亮", "琴", "云", "兰", "凤", "梅", "燕", "翠", "春", "海", "松", "志", "国", "庆", "德", "永", "福", "生", "金",
		"山", "水", "荣", "成", "光", "新", "嘉", "子", "琪", "瑶", "璐", "楠", "倩", "博", "昊", "然", "泽", "轩", "睿", "涵",
		"诗", "悦", "瑞", "彤", "可", "馨", "蓉", "慧", "莉", "薇", "菲", "丹", "琦", "璇", "锋", "坤", "彬", "毅", "达", "伦",
		"铭", "哲", "源", "渊", "晖", "耀", "振", "兴", "旺", "昌", "盛", "茂", "清", "泉", "湖", "江", "河", "星", "月", "冬"},
	"Street": {"{Given}{Given}[路|街|大道|巷|小区|花园|新村|村|镇|社区]"},
	"Activity": {"逛了一下午街", "爬了趟山", "去钓鱼", "喝了喜酒", "参加了同学聚会", "走亲戚", "去海边玩", "打了一晚上麻将",
		"通宵赶项目", "搬了趟家", "去外地出差", "陪孩子上补习班", "给老人过寿", "在工地干了一天活", "连着开了几天车",
		"去健身房练了两小时", "熬夜看球赛", "下地干了一天农活", "照顾住院的家人", "帮朋友装修", "跑了个半程马拉松", "去泡温泉",
		"吃了顿自助餐", "在冷库里干活", "去高原旅游", "参加婚礼", "带团出去旅游", "在厨房忙了一整天", "跟同事去唱歌", "看了场电影"},
	"Thing": {"手机", "电脑", "空调", "电热毯", "枕头", "床垫", "口罩", "眼镜", "保温杯", "护膝", "体温计", "血压计", "血糖仪",
		"加湿器", "电风扇", "暖宝宝", "拖鞋", "书包", "耳机", "冰箱里的剩菜"},
	"Mood": {"心情一直不好", "脾气变得很急", "总觉得累", "对什么都提不起兴趣", "晚上翻来覆去睡不着", "白天犯困", "容易紧张",
		"老是想东想西", "做事没精神", "有点烦躁"},
	"Side": {"左边", "右边", "两侧", "左侧", "右侧", "正中间", "靠上的地方", "靠下一点"},
	"Part": {"头顶", "后脑勺", "太阳穴", "额头", "眼眶", "脖子", "肩膀", "后背", "胸口", "心口窝", "肋骨下面", "上腹部",
		"肚脐周围", "小肚子", "腰眼", "尾骨", "膝盖", "脚后跟", "手指关节", "手腕", "嗓子", "鼻子里", "耳朵里", "牙龈",
		"舌头", "胳膊", "大腿根", "小腿肚", "脚踝", "眼睛", "嘴角", "下巴", "锁骨", "胯骨", "脚趾", "手心"},
	"Feel": {"隐隐作痛", "一跳一跳地疼", "发胀", "发麻", "发酸", "发紧", "像针扎一样疼", "火辣辣的", "像压了块石头",
		"痒得厉害", "一阵阵抽痛", "发凉", "发烫", "刺痛", "钝钝地疼", "沉甸甸的", "有烧灼感", "肿起来一块", "一碰就疼",
		"僵硬", "没力气", "跳个不停", "咯噔一下", "有点木", "像有东西堵着", "干得难受", "又红又肿"},
	"Conn": {"一般来说，", "通常", "临床上，", "从临床看，", "实际上，", "需要说明的是，", "总的来说，", "据观察，", "另外，", "同时，"},
	"Tone": {"不用太紧张", "先别着急", "不要过分担心", "这种情况比较常见", "需要重视一下", "不能掉以轻心", "要引起重视",
		"问题不算大", "还是要认真对待"},
}

// detail is a symptom in the patient's words: where, and what it feels like.
func (g *renderer) detail() string {
	return g.expand("[{Side}|]{Part}[{Feel}|有点{Feel}|总是{Feel}|偶尔{Feel}][，每次[持续|]{N}[分钟|秒钟|个小时][左右|上下|]|，一天[要|会|]{N}[次|回]|，[按|摸|压]上去[更|]{Feel}|]", g.vocab)
}

// facts lists some of xs (a fact list of the disease) the way people write
// lists: in any order, with varied joiners and, for symptoms, how they feel.
func (g *renderer) facts(xs []string, lo, hi int, mods []string) string {
	r := g.r
	items := some(r, xs, lo, hi)
	var b strings.Builder
	for i, x := range items {
		switch {
		case i == 0:
		case i == len(items)-1 && r.IntN(3) == 0:
			b.WriteString(pick(r, []string{"和", "以及", "或", "及", "，还有", "，甚至"}))
		default:
			b.WriteString(pick(r, []string{"、", "、", "、", "，"}))
		}
		if mods != nil && r.IntN(3) == 0 {
			b.WriteString(pick(r, mods))
		}
		b.WriteString(x)
	}
	return b.String()
}

var symptomMods = []string{"轻度", "明显的", "反复", "阵发性", "持续性", "偶发的", "夜间", "晨起", "间断", "进行性", "剧烈的", "轻微的", "短暂的", "逐渐加重的"}
var causeMods = []string{"长期", "反复", "过度", "严重的", "明显的", "慢性", "一时的"}

// date is a day someone remembers.
func (g *renderer) date() string {
	r := g.r
	switch r.IntN(5) {
	case 0:
		return g.count(1+r.IntN(12)) + "月" + strconv.Itoa(1+r.IntN(30)) + pick(r, []string{"号", "日"})
	case 1:
		return pick(r, []string{"上周", "这周", "上上周"}) + pick(r, []string{"一", "二", "三", "四", "五", "六", "日"})
	case 2:
		return pick(r, []string{"前天", "昨天", "大前天", "上个月底", "月初", "去年年底"}) + pick(r, []string{"早上", "晚上", "下午", "夜里"}) +
			g.count(1+r.IntN(12)) + "点" + pick(r, []string{"", "多", "半", "左右"})
	case 3:
		return strconv.Itoa(2015+r.IntN(10)) + "年" + strconv.Itoa(1+r.IntN(12)) + "月"
	default:
		return g.count(2+r.IntN(20)) + pick(r, []string{"天前", "号那天", "天以前"})
	}
}

// vocab fills the common slots of proseVocab (and {N}, a small count, and
// {Detail}).
func (g *renderer) vocab(key string) string {
	switch key {
	case "N":
		return g.count(2 + g.r.IntN(9))
	case "Detail":
		return g.detail()
	case "Date":
		return g.date()
	case "Meal":
		return g.vocab("Cook") + g.vocab("Dish")
	case "JobAt":
		return g.expand("[在{City}|在{Place}|在{Surname}[总|老板|家]的[公司|厂里|店里]|]当{Job}", g.vocab)
	case "HabitFor":
		return g.expand("{Habit}[{N}年了|好多年了|有{N}个月了|从年轻时就这样|]", g.vocab)
	case "Place":
		return g.vocab("City") + pick(g.r, []string{g.vocab("Area"), g.vocab("Street")})
	case "Name":
		n := g.vocab("Surname") + g.vocab("Given")
		if g.r.IntN(2) == 0 {
			n += g.vocab("Given")
		}
		return n
	}
	if xs, ok := proseVocab[key]; ok {
		return g.expand(pick(g.r, xs), g.vocab)
	}
	return key
}

// synonyms are interchangeable words of the templates' own text (never of
// the facts): paraphrase swaps them, so the glue between facts varies as
// much as the facts do.
var synonyms = groupSynonyms([][]string{
	{"建议", "推荐", "最好", "不妨", "可以考虑"}, {"出现", "发生", "冒出", "有了"}, {"常见", "多见", "较常见", "比较普遍"},
	{"症状", "表现", "不适", "毛病"}, {"患者", "病人", "病友", "就诊者"}, {"医院", "正规医院", "医疗机构", "大医院"},
	{"治疗", "诊治", "医治", "处理"}, {"检查", "检测", "筛查", "化验"}, {"注意", "留意", "当心", "小心"},
	{"可能", "也许", "或许", "有可能"}, {"需要", "得", "须", "要"}, {"比较", "相对", "较为", "挺"},
	{"一般", "通常", "大多", "往往"}, {"及时", "尽早", "赶紧", "早点"}, {"平时", "平常", "日常", "平日里"},
	{"经常", "常常", "时常", "老是"}, {"最近", "近来", "这阵子", "近期"}, {"担心", "担忧", "发愁", "忧心"},
	{"情况", "状况", "问题", "情形"}, {"明显", "显著", "突出", "厉害"}, {"医生", "大夫", "专科医生", "主治医生"},
	{"就诊", "看病", "求医", "看医生"}, {"复查", "复诊", "随访", "回访"}, {"好转", "改善", "缓解", "减轻"},
	{"严重", "要紧", "厉害", "麻烦"}, {"容易", "易", "很可能", "常会"}, {"引起", "导致", "造成", "诱发"},
	{"预防", "防范", "避免", "预先防止"}, {"饮食", "膳食", "吃饭", "伙食"}, {"休息", "歇息", "静养", "调养"},
	{"坚持", "持续", "长期", "一直"}, {"适当", "适量", "适度", "酌情"}, {"尽量", "尽可能", "务必", "最好"},
	{"具体", "详细", "确切", "实际"}, {"希望", "期望", "但愿", "祝愿"}, {"帮助", "帮忙", "好处", "用处"},
	{"观察", "留观", "观测", "看看"}, {"发作", "犯病", "复发", "加重"}, {"开始", "起初", "刚开始", "一开始"},
	{"以后", "之后", "过后"}, {"已经", "早已", "都已经", "已"}, {"一直", "始终", "总是", "持续"},
	{"有点", "有些", "略微", "稍微"}, {"特别", "尤其", "格外", "非常"}, {"反复", "多次", "屡次", "一再"},
	{"怎么办", "如何是好", "咋办", "该咋整"}, {"请问", "想问", "咨询一下", "请教"}, {"谢谢", "多谢", "感谢", "谢了"},
	{"确诊", "明确诊断", "诊断清楚", "确定诊断"}, {"主要", "大多", "基本上", "主要是"}, {"因素", "原因", "诱因", "缘故"},
	{"方法", "办法", "法子", "手段"}, {"效果", "疗效", "作用", "成效"}, {"服用", "口服", "吃", "用"},
	{"立即", "马上", "立刻", "即刻"}, {"避免", "防止", "杜绝", "不要"}, {"相关", "有关", "有联系", "相干"},
	{"多吃", "常吃", "多选", "多用"}, {"身体", "身子", "体质", "机体"}, {"不舒服", "难受", "不得劲", "不适"},
	{"担心", "害怕", "紧张", "顾虑"}, {"时候", "时", "当口", "阶段"}, {"发现", "查出", "察觉", "注意到"},
	{"厉害", "严重", "明显", "重"}, {"医院", "医院里", "院里", "医疗机构"}, {"药物", "药品", "药", "用药"},
	{"结果", "报告", "化验单", "结论"}, {"大约", "大概", "约", "差不多"}, {"目前", "现在", "眼下", "当前"},
	{"必要", "需要", "要紧", "必须"}, {"可以", "能", "可", "不妨"}, {"如果", "要是", "假如", "倘若"},
	{"还是", "依然", "仍然", "还"}, {"因为", "由于", "因", "鉴于"}, {"所以", "因此", "故而", "这样"},
	{"不要", "别", "切勿", "千万别"}, {"每次", "每回", "一次", "单次"}, {"一天", "每天", "一日", "每日"}, {"每周", "一周", "每星期", "每礼拜"},
	{"伴有", "伴随", "合并", "同时有"}, {"这类", "这种", "此类", "这一类"}, {"也有", "同样有", "也会有", "亦有"},
	{"约有", "大约有", "大概有", "差不多有"}, {"主任", "主任医师", "科主任", "专家"}, {"考虑", "怀疑", "倾向于", "估计"},
	{"住在", "家住", "居住在", "住"}, {"临床上", "临床中", "实际诊疗中", "门诊中"}, {"对于", "对", "针对", "就"},
	{"根据", "按照", "依据", "从"}, {"教授", "老师", "老专家", "教授级专家"}, {"收治", "接收", "诊治", "接诊"},
	{"一项", "一份", "某项", "有一项"}, {"门诊", "门诊部", "诊室", "专科门诊"}, {"约占", "占了", "大约占", "占到"},
	{"结合", "综合", "联系", "参考"}, {"统计", "数据", "记录", "资料"}, {"包括", "包含", "涵盖", "有"},
	{"遇到", "碰到", "见过", "接触过"}, {"自己", "自个儿", "本人", "自身"}, {"提示", "显示", "说明", "表明"},
	{"加重", "变重", "恶化", "更厉害"}, {"较低", "偏低", "比较低", "低一些"}, {"其中", "当中", "这中间", "里面"},
	{"鉴别", "区别", "区分", "分辨"}, {"记录", "记下", "登记", "写下"}, {"现在", "如今", "目前", "这会儿"},
	{"食物", "食品", "吃的", "东西"}, {"以前", "之前", "从前", "过去"}, {"发病", "起病", "患病", "得病"},
	{"晚上", "夜里", "夜间", "晚间"}, {"上周", "上个星期", "上礼拜", "前一周"}, {"分钟", "分钟左右", "来分钟", "分钟上下"},
	{"体重", "体重秤上", "称重", "称体重"}, {"一下", "一下子", "一番", "一遍"}, {"比如", "例如", "像是", "譬如"},
	{"越来越", "愈发", "日渐", "渐渐"}, {"之后", "以后", "后来", "过后"}, {"明确", "确定", "搞清", "弄明白"}, {"已经", "早就", "都", "业已"}, {"左右", "上下", "前后", "大概"}, {"少吃", "少碰", "控制", "节制"}, {"了解", "知道", "掌握", "弄清"},
})

func groupSynonyms(groups [][]string) map[string][]string {
	m := map[string][]string{}
	for _, grp := range groups {
		for _, w := range grp {
			if _, dup := m[w]; !dup && utf8.RuneCountInString(w) > 1 { // one character is too often part of another word
				m[w] = grp
			}
		}
	}
	return m
}

// halfWidth is the ASCII punctuation people type in place of the
// full-width marks: many real records mix the two.
var halfWidth = map[rune]byte{'，': ',', '？': '?', '！': '!', '：': ':', '；': ';'}

// newRecord starts a record: it draws how often this writer types
// half-width punctuation (mostly never).
func (g *renderer) newRecord() {
	g.half = 0
	if g.r.IntN(5) < 2 {
		g.half = 0.2 + 0.8*g.r.Float64()
	}
}

// paraphrase writes lit with each synonym word swapped for one of its
// group (itself included), and full-width punctuation half-width at the
// record's rate.
func (g *renderer) paraphrase(b *strings.Builder, lit string) {
	for i := 0; i < len(lit); {
		matched := false
		for n := 12; n >= 6; n -= 3 { // words of 4, 3 and 2 Chinese characters
			if i+n > len(lit) {
				continue
			}
			if grp, ok := synonyms[lit[i:i+n]]; ok {
				b.WriteString(pick(g.r, grp))
				i += n
				matched = true
				break
			}
		}
		if !matched {
			c, size := utf8.DecodeRuneInString(lit[i:])
			if half, ok := halfWidth[c]; ok && g.half > 0 && g.r.Float64() < g.half {
				b.WriteByte(half)
			} else {
				b.WriteString(lit[i : i+size])
			}
			i += size
		}
	}
}
