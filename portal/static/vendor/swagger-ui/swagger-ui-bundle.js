/*! For license information please see swagger-ui-bundle.js.LICENSE.txt */
