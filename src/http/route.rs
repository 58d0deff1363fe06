//! Which source a request is for: `POST` to a path whose last segment is `feishu` or
//! `feilian`, so that API Gateway stage prefixes and custom base paths just work.

use lambda_http::http::Method;

use org_change_core::Source;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    NotFound,
    MethodNotAllowed,
}

pub fn route(method: &Method, path: &str) -> Result<Source, RouteError> {
    let last = path
        .rsplit('/')
        .find(|segment| !segment.is_empty())
        .unwrap_or_default();
    let source = Source::ALL
        .into_iter()
        .find(|source| source.as_str() == last)
        .ok_or(RouteError::NotFound)?;
    if method != Method::POST {
        return Err(RouteError::MethodNotAllowed);
    }
    Ok(source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_path_segment_names_the_source() {
        for path in ["/feishu", "/prod/feishu", "/hooks/v1/feishu/", "feishu"] {
            assert_eq!(route(&Method::POST, path), Ok(Source::Feishu), "{path}");
        }
        assert_eq!(
            route(&Method::POST, "/default/feilian"),
            Ok(Source::Feilian)
        );
    }

    #[test]
    fn other_paths_are_not_found_and_other_methods_not_allowed() {
        for path in [
            "/",
            "",
            "/feishu/events",
            "/Feishu",
            "/feishux",
            "/feishu?x=1",
        ] {
            assert_eq!(
                route(&Method::POST, path),
                Err(RouteError::NotFound),
                "{path}"
            );
        }
        assert_eq!(
            route(&Method::GET, "/feishu"),
            Err(RouteError::MethodNotAllowed)
        );
        assert_eq!(
            route(&Method::PUT, "/prod/feilian"),
            Err(RouteError::MethodNotAllowed)
        );
        assert_eq!(route(&Method::GET, "/elsewhere"), Err(RouteError::NotFound));
    }
}
