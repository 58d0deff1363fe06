//! Which endpoint a request is for: `POST` to a path ending in `/feishu`, `/feilian`, or
//! either followed by `/<name>`. Matching the end lets API Gateway stage prefixes and
//! custom base paths work.

use lambda_http::http::Method;

use org_change_core::EndpointId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    NotFound,
    MethodNotAllowed,
}

/// The endpoint `path` names, for a POST.
///
/// # Errors
///
/// [`RouteError::NotFound`] for a path that names no endpoint, whatever the method.
/// [`RouteError::MethodNotAllowed`] for another method on an endpoint's path.
pub fn route(method: &Method, path: &str) -> Result<EndpointId, RouteError> {
    let id = EndpointId::from_path(path).ok_or(RouteError::NotFound)?;
    if method != Method::POST {
        return Err(RouteError::MethodNotAllowed);
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routed(path: &str) -> Result<String, RouteError> {
        route(&Method::POST, path).map(|id| id.as_str().to_owned())
    }

    #[test]
    fn the_last_path_segment_names_the_default_endpoint() {
        for path in ["/feishu", "/prod/feishu", "/hooks/v1/feishu/", "feishu"] {
            assert_eq!(routed(path).as_deref(), Ok("feishu"), "{path}");
        }
        assert_eq!(routed("/default/feilian").as_deref(), Ok("feilian"));
    }

    #[test]
    fn the_last_two_segments_name_a_named_endpoint() {
        for (path, id) in [
            ("/feishu/lark-global", "feishu/lark-global"),
            ("/prod/feishu/lark-global/", "feishu/lark-global"),
            ("/feilian/sub-1", "feilian/sub-1"),
            ("/feishu/events", "feishu/events"),
        ] {
            assert_eq!(routed(path).as_deref(), Ok(id), "{path}");
        }
    }

    #[test]
    fn other_paths_are_not_found_and_other_methods_not_allowed() {
        for path in [
            "/",
            "",
            "/Feishu",
            "/feishux",
            "/feishu?x=1",
            "/feishu/Lark",
            "/feishu/lark_global",
            "/feishu/a/b",
            "/lark-global",
        ] {
            assert_eq!(routed(path), Err(RouteError::NotFound), "{path}");
        }
        assert_eq!(
            route(&Method::GET, "/feishu"),
            Err(RouteError::MethodNotAllowed)
        );
        assert_eq!(
            route(&Method::PUT, "/prod/feilian/sub"),
            Err(RouteError::MethodNotAllowed)
        );
        assert_eq!(route(&Method::GET, "/elsewhere"), Err(RouteError::NotFound));
    }
}
