//! Catalogue: the keys, workspaces, projects and groups each fake provider knows.

use super::*;

pub(super) struct AKey {
    pub(super) id: &'static str,
    pub(super) name: &'static str,
    pub(super) workspace_id: Option<&'static str>,
    pub(super) hint: &'static str,
    pub(super) created_at: &'static str,
}

pub(super) struct AWorkspace {
    pub(super) id: &'static str,
    pub(super) name: &'static str,
    pub(super) created_at: &'static str,
    pub(super) color: &'static str,
}

pub(super) const WS_RESEARCH: &str = "wrkspc_01Research4GmTq2Wx7ZpKd";
pub(super) const WS_TRADING: &str = "wrkspc_01TradingDesk6Bn3Yk9Lv";

pub(super) const A_WORKSPACES: [AWorkspace; 2] = [
    AWorkspace {
        id: WS_RESEARCH,
        name: "Research",
        created_at: "2025-03-04T09:12:44.120331Z",
        color: "#6C5BB9",
    },
    AWorkspace {
        id: WS_TRADING,
        name: "trading-desk",
        created_at: "2025-06-18T15:40:02.551907Z",
        color: "#D97757",
    },
];

pub(super) const A_KEYS: [AKey; 4] = [
    AKey {
        id: "apikey_01Peakpaws7Qx2mTgW9hZcL4",
        name: "peakpaws-prod",
        workspace_id: None,
        hint: "sk-ant-api03-Pk7...x2AA",
        created_at: "2025-02-11T10:03:17.402211Z",
    },
    AKey {
        id: "apikey_01KanbanBot3Rf8vNq1sYdE6",
        name: "kanban-bot",
        workspace_id: Some(WS_RESEARCH),
        hint: "sk-ant-api03-Kb3...q1AA",
        created_at: "2025-04-02T08:55:40.019833Z",
    },
    AKey {
        id: "apikey_01TradingSig5Hj2pLw8uXa",
        name: "trading-signals",
        workspace_id: Some(WS_TRADING),
        hint: "sk-ant-api03-Tr5...w8AA",
        created_at: "2025-07-21T13:27:09.774120Z",
    },
    AKey {
        id: "apikey_01OpsMisc9Kd4bVz6nTy2Rc",
        name: "ops-misc",
        workspace_id: None,
        hint: "sk-ant-api03-Op9...z6AA",
        created_at: "2025-09-30T17:01:55.310457Z",
    },
];

pub(super) const A_MODELS: [&str; 5] = [
    "claude-opus-4-6",
    "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5-20251001",
    "claude-opus-4-5-20251101",
    "claude-sonnet-4-6",
];

#[derive(Clone, Copy, Debug)]
pub(super) struct AGroup {
    pub(super) model: &'static str,
    pub(super) api_key_id: Option<&'static str>,
    pub(super) workspace_id: Option<&'static str>,
    pub(super) service_tier: &'static str,
    pub(super) context_window: &'static str,
    pub(super) inference_geo: &'static str,
}

impl AGroup {
    pub(super) fn signature(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}",
            self.model,
            self.api_key_id.unwrap_or("-"),
            self.workspace_id.unwrap_or("-"),
            self.service_tier,
            self.context_window,
            self.inference_geo
        )
    }
    pub(super) fn rarity(&self) -> u64 {
        u64::from(self.service_tier != "standard")
            + u64::from(self.context_window != "0-200k")
            + u64::from(self.inference_geo == "us")
    }
}

/// Every valid Anthropic combination, in the order groups are taken: round-robin over models,
/// each model starting with a plain group then one of each rarer variant (batch, 1M context,
/// US inference), then the rest in a fixed pseudo-random order biased towards common values.
pub(super) fn anthropic_catalog() -> Vec<AGroup> {
    let mut pairs: Vec<(Option<&'static str>, Option<&'static str>)> = A_KEYS
        .iter()
        .map(|k| (Some(k.id), k.workspace_id))
        .collect();
    // Console usage (no key) lands in any workspace, the default one included.
    pairs.extend([
        (None, None),
        (None, Some(WS_RESEARCH)),
        (None, Some(WS_TRADING)),
    ]);
    let mut per_model = Vec::new();
    for model in A_MODELS {
        let geos: &[&'static str] = if model.ends_with("-4-6") {
            &["global", "us"]
        } else {
            &["not_available"]
        };
        let windows: &[&'static str] = if model == "claude-sonnet-4-5-20250929" {
            &["0-200k", "200k-1M"]
        } else {
            &["0-200k"]
        };
        let mut combos = Vec::new();
        for &(api_key_id, workspace_id) in &pairs {
            for service_tier in ["standard", "batch"] {
                for &context_window in windows {
                    for &inference_geo in geos {
                        combos.push(AGroup {
                            model,
                            api_key_id,
                            workspace_id,
                            service_tier,
                            context_window,
                            inference_geo,
                        });
                    }
                }
            }
        }
        combos.sort_by_key(|g| {
            let h = fnv(g.signature().as_bytes());
            (h % 1000 + g.rarity() * 350, h)
        });
        let picks: [fn(&AGroup) -> bool; 4] = [
            |g| g.rarity() == 0,
            |g| g.rarity() == 1 && g.service_tier == "batch",
            |g| g.rarity() == 1 && g.context_window == "200k-1M",
            |g| g.rarity() == 1 && g.inference_geo == "us",
        ];
        let mut ordered = Vec::new();
        for pick in picks {
            if let Some(pos) = combos.iter().position(pick) {
                ordered.push(combos.remove(pos));
            }
        }
        ordered.extend(combos);
        per_model.push(ordered);
    }
    round_robin(per_model)
}

pub(super) struct OProject {
    pub(super) id: &'static str,
    pub(super) name: &'static str,
    pub(super) created_at: i64,
}

pub(super) struct OKey {
    pub(super) id: &'static str,
    pub(super) name: &'static str,
    pub(super) project_id: &'static str,
    pub(super) redacted: &'static str,
    pub(super) created_at: i64,
    pub(super) owner_id: &'static str,
    pub(super) owner_name: &'static str,
    pub(super) owner_email: &'static str,
}

pub(super) const P_WEB: &str = "proj_PeakpawsWeb8f3Kq2Lm9XzTw";
pub(super) const P_KANBAN: &str = "proj_KanbanBoard4Tn7Vw1RcJy";
pub(super) const P_DEFAULT: &str = "proj_Default0Hs5Jd2Gy6PbQe";

pub(super) const O_PROJECTS: [OProject; 3] = [
    OProject {
        id: P_DEFAULT,
        name: "Default project",
        created_at: 1_711_471_533,
    },
    OProject {
        id: P_WEB,
        name: "peakpaws-web",
        created_at: 1_730_132_410,
    },
    OProject {
        id: P_KANBAN,
        name: "kanban-board",
        created_at: 1_746_003_917,
    },
];

pub(super) const O_KEYS: [OKey; 4] = [
    OKey {
        id: "key_Pw7mQ2xR9tLc4VhN",
        name: "peakpaws-web-prod",
        project_id: P_WEB,
        redacted: "sk-proj-****Xh4A",
        created_at: 1_730_133_002,
        owner_id: "user-Ab3dE6fG9hJk2MnP",
        owner_name: "Sam Peak",
        owner_email: "sam@peakpaws.example",
    },
    OKey {
        id: "key_Pw3nB8yK1sDf6GjM",
        name: "peakpaws-web-staging",
        project_id: P_WEB,
        redacted: "sk-proj-****m9QA",
        created_at: 1_734_555_120,
        owner_id: "user-Ab3dE6fG9hJk2MnP",
        owner_name: "Sam Peak",
        owner_email: "sam@peakpaws.example",
    },
    OKey {
        id: "key_Kb5tZ9wE2qHr7XcA",
        name: "kanban-api",
        project_id: P_KANBAN,
        redacted: "sk-proj-****T2wA",
        created_at: 1_746_004_501,
        owner_id: "user-Cq8rS1tU4vWx7YzB",
        owner_name: "Kim Board",
        owner_email: "kim@kanban.example",
    },
    OKey {
        id: "key_Df1gU6pS4mNv8YkT",
        name: "default-dev",
        project_id: P_DEFAULT,
        redacted: "sk-proj-****8rkA",
        created_at: 1_711_472_000,
        owner_id: "user-Ab3dE6fG9hJk2MnP",
        owner_name: "Sam Peak",
        owner_email: "sam@peakpaws.example",
    },
];

pub(super) const O_MODELS: [&str; 5] = [
    "gpt-4o-2024-08-06",
    "gpt-4o-mini-2024-07-18",
    "gpt-5",
    "o3",
    "gpt-4.1",
];

#[derive(Clone, Copy, Debug)]
pub(super) struct OGroup {
    pub(super) model: &'static str,
    pub(super) project_id: &'static str,
    pub(super) api_key_id: Option<&'static str>,
    pub(super) batch: bool,
    pub(super) service_tier: &'static str,
}

impl OGroup {
    pub(super) fn signature(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.model,
            self.project_id,
            self.api_key_id.unwrap_or("-"),
            self.batch,
            self.service_tier
        )
    }
    pub(super) fn rarity(&self) -> u64 {
        u64::from(self.batch) + u64::from(self.service_tier != "default")
    }
}

/// Every valid OpenAI combination, ordered like [`anthropic_catalog`].
pub(super) fn openai_catalog() -> Vec<OGroup> {
    let mut pairs: Vec<(&'static str, Option<&'static str>)> =
        O_KEYS.iter().map(|k| (k.project_id, Some(k.id))).collect();
    // Usage without an API key id (e.g. the Playground), in each project.
    pairs.extend(O_PROJECTS.iter().map(|p| (p.id, None)));
    let mut per_model = Vec::new();
    for model in O_MODELS {
        let mut combos = Vec::new();
        for &(project_id, api_key_id) in &pairs {
            for batch in [false, true] {
                let tiers: &[&'static str] = if model == "o3" && !batch {
                    &["default", "flex"]
                } else {
                    &["default"]
                };
                for &service_tier in tiers {
                    combos.push(OGroup {
                        model,
                        project_id,
                        api_key_id,
                        batch,
                        service_tier,
                    });
                }
            }
        }
        combos.sort_by_key(|g| {
            let h = fnv(g.signature().as_bytes());
            (h % 1000 + g.rarity() * 350, h)
        });
        let picks: [fn(&OGroup) -> bool; 3] = [
            |g| g.rarity() == 0,
            |g| g.batch,
            |g| g.service_tier == "flex",
        ];
        let mut ordered = Vec::new();
        for pick in picks {
            if let Some(pos) = combos.iter().position(pick) {
                ordered.push(combos.remove(pos));
            }
        }
        ordered.extend(combos);
        per_model.push(ordered);
    }
    round_robin(per_model)
}

pub(super) fn round_robin<T: Copy>(lists: Vec<Vec<T>>) -> Vec<T> {
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = Vec::new();
    for i in 0..longest {
        for list in &lists {
            if let Some(item) = list.get(i) {
                out.push(*item);
            }
        }
    }
    out
}
