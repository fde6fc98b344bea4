"""Single sign-on: the SAML 2.0 identity provider the original SDKs sign in through."""
