use super::*;

fn accepted<T: IntoParams>() -> Vec<String> {
    names::<T>()
}

#[test]
fn decodes_percent_and_plus() {
    let decoded = pairs(
        Some("tz=America%2FChicago&start=a+b%20c&end=100%"),
        &accepted::<RangeQuery>(),
    )
    .unwrap();
    let query: RangeQuery = deserialize(&decoded).unwrap();
    assert_eq!(query.tz.as_deref(), Some("America/Chicago"));
    assert_eq!(query.start.as_deref(), Some("a b c"));
    assert_eq!(query.end.as_deref(), Some("100%"));
    let decoded = pairs(Some("tz=%zz&&group_by"), &accepted::<RangeQuery>()).unwrap();
    let query: RangeQuery = deserialize(&decoded).unwrap();
    assert_eq!(query.tz.as_deref(), Some("%zz"));
    assert_eq!(query.group_by, None, "an empty value is no value");
}

#[test]
fn a_repeated_parameter_is_named() {
    let names = accepted::<RangeQuery>();
    let err = pairs(Some("tz=UTC&group_by=day&tz=Europe%2FBerlin"), &names).unwrap_err();
    assert!(err.to_string().contains("tz"), "{err}");
    assert!(err.to_string().contains("more than once"), "{err}");
    let err = pairs(Some("tz=UTC&t%7A=UTC"), &names).unwrap_err();
    assert!(
        err.to_string().contains("more than once"),
        "decoded names compare: {err}"
    );
    let err = pairs(Some("group_by=&group_by=day"), &names).unwrap_err();
    assert!(err.to_string().contains("more than once"), "{err}");
}

fn report<T: IntoParams>(raw: &str) -> Result<[Vec<(String, String)>; 3], ApiError> {
    groups(
        Some(raw),
        [
            accepted::<T>(),
            accepted::<FormatQuery>(),
            accepted::<FilterQuery>(),
        ],
    )
}

#[test]
fn unknown_parameters_are_named() {
    let err = report::<RangeQuery>("start=2026-01-01&grup_by=day").unwrap_err();
    assert!(err.to_string().contains("grup_by"));
    assert!(
        err.to_string().contains(
            "accepted: start, end, tz, group_by, stack_by, format, provider, model, project, \
             agent, session_type, source"
        ),
        "{err}"
    );
    let [own, format, filters] = report::<SummaryQuery>("format=csv&tz=UTC&model=m").unwrap();
    assert_eq!(own, [("tz".to_string(), "UTC".to_string())]);
    assert_eq!(format, [("format".to_string(), "csv".to_string())]);
    assert_eq!(filters, [("model".to_string(), "m".to_string())]);
    let daily_summary = [accepted::<DailySummaryQuery>(), accepted::<FormatQuery>()];
    assert!(groups(Some("model=x"), daily_summary).is_err());
}

#[test]
fn the_structs_refuse_what_they_do_not_list() {
    // The extractor checks names first; the structs themselves are strict too.
    let pairs = vec![("grup_by".to_string(), "day".to_string())];
    assert!(deserialize::<RangeQuery>(&pairs).is_err());
    assert!(deserialize::<FilterQuery>(&pairs).is_err());
}

#[test]
fn closed_sets_are_documented_from_their_lists() {
    let values = |schema: RefOr<Schema>| match schema {
        RefOr::T(Schema::Object(object)) => object.enum_values.unwrap_or_default(),
        _ => panic!("not an inline object"),
    };
    assert_eq!(
        values(SessionTypeName::schema()).len(),
        SessionType::ALL.len()
    );
    assert_eq!(values(SourceName::schema()).len(), Source::ALL.len());
    assert_eq!(values(StackByName::schema()).len(), Dimension::ALL.len());
    assert_eq!(values(GranularityName::schema()), ["day", "week", "month"]);
}

#[test]
fn bounded_integers_name_their_bounds() {
    assert_eq!(int("limit", &None, 100, (1, 1000)).unwrap(), 100);
    assert_eq!(
        int("limit", &Some(" 7 ".into()), 100, (1, 1000)).unwrap(),
        7
    );
    let err = int("limit", &Some("0".into()), 100, (1, 1000)).unwrap_err();
    assert!(
        err.to_string()
            .contains("limit: must be an integer from 1 to 1000"),
        "{err}"
    );
}
